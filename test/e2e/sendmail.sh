#!/bin/sh
# sendmail.sh - relayguard end to end behind a real Sendmail 8.17 (TAP).
#
# The Sendmail twin of postfix.sh.  Debian's Sendmail packages are fetched
# once and unpacked into a private directory (Postfix stays installed), and
# a throwaway Sendmail runs on loopback in a private namespace (see
# test/lib/mta.sh).  It is an open relay of its own (promiscuous_relay):
# other domains leave through a smart host (the sink), example.com is in
# its class w and goes through its local mailer (LMTP to a second sink), so
# relayguard is the only thing between a client and the sinks.  Clients:
# 127.0.0.1 and ::1 are trusted, 127.0.0.3 and up are strangers.  Each
# check looks at what the client was told, what reached the sinks, and
# what relayguard and Sendmail logged; then Sendmail-specific glue (macros
# at MAIL, {daemon_addr} on a second listening address, a reused milter
# connection), the hop limit (Sendmail's own does not refuse), turf,
# Sendmail's quarantine queue and "relayguard turf release" through this
# Sendmail, reload, stop, and Sendmail with relayguard down.
#
# What Sendmail 8.17 does with the encapsulated forms (example.com in class
# w, default rulesets, checked below from a trusted client, whose
# recipients relayguard leaves to the MTA): it accepts four of them at RCPT
# and relays each to user@else.test through the smart host, telling the
# milter so ({rcpt_mailer} relay, {rcpt_host} [sink.test], {rcpt_addr}
# user@else.test): "user%else.test@example.com" (ruleset 3 turns the % into
# @ once its own domain is stripped), "else.test!user@example.com" (UUCP
# bang path), "user@else.test"@example.com (quotes dropped with its own
# domain) and @example.com:user@else.test (source route dropped, RFC 5321
# Appendix C).  The fifth, user@else.test@example.com, Sendmail refuses
# itself with "553 5.1.3 Invalid route address" before the milter hears
# of it.  relayguard gets the first four as the client typed them, so the
# refusal a stranger sees is relayguard's (route_reply, 550 5.7.1) at RCPT.
#
# Local users arrive the way Sendmail's local mailer names them: the bare
# user, lower-cased (no F=u), "postmaster" for every spelling of it.
. "${top_srcdir:-.}/test/lib/mta.sh"

started=$(date +%s)
mta_require_sendmail
mta_init

turf=$RG_TMP/turf
mkdir "$turf"
chown "$RG_USER" "$turf"
chmod 700 "$turf"
conf=$RG_TMP/relayguard.conf
# rg_conf LOCAL-DOMAINS [LINE...]: write relayguard's config.  max_hops
# 20 is under Sendmail's own MaxHopCount (25); a turfed message over 4 KiB
# is quarantined in Sendmail instead; "relayguard turf release" submits
# through this test's Sendmail (mta_sendmail_init writes that script).
rg_conf() {
	_rc_domains=$1
	shift
	{
		echo "# relayguard.conf of test/e2e/sendmail.sh"
		echo "local_domains = $_rc_domains"
		echo "trusted_networks = 127.0.0.1/32 ::1/128"
		echo "internal_interfaces = 127.0.0.2/32"
		echo "max_hops = 20"
		echo "turf_dir = $turf"
		echo "turf_senders = loopy@stranger.test"
		echo "turf_max_size = 4k"
		echo "sendmail_path = $RG_TMP/sm/sendmail"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} | mta_write "$conf"
}
rg_conf example.com

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_sendmail_init example.com
# A second listening address for the internal-interface check below.
mta_sendmail_set "DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.2, Name=MTA-int')dnl"
sasl_why=
mta_sendmail_sasl alice@example.com 's3cret' >>"$RG_TMP/sendmail.out" 2>&1 ||
	sasl_why="no Cyrus SASL for the private Sendmail (apt-get install sasl2-bin libsasl2-modules)"
mta_sendmail_start
refused= # envelope recipients that must never reach the sink

# ---- helpers of this test --------------------------------------------------

# rcpt_is N ERE NAME: the reply to the Nth RCPT of the last dialogue.
rcpt_is() {
	tap_like "$(smtp_reply RCPT "$1")" "$2" "$3"
}

# delivered_to "ADDR..." NAME: the last dialogue's message was delivered,
# and the sinks got it for exactly these envelope recipients.
delivered_to() {
	_dt_want=$(printf '%s\n' $1 | sort)
	if ! mta_wait_delivered; then
		tap_fail "$2"
		tap_diag "not delivered (queue id '${SMTP_QID}'); replies:"
		tap_diag "$(cat "$SMTP_REPLIES")"
		return 1
	fi
	# Local and relayed recipients of one message reach different sinks,
	# as two dumps carrying the same token.
	_dt_got=$(grep -lF -- "X-RG-Token: $SMTP_TOKEN" "$SINK_DIR"/* 2>/dev/null |
		xargs sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' | sort)
	tap_is "$_dt_got" "$_dt_want" "$2"
}

# message FILE: write a message (Date, Message-ID, From, To, Subject, a
# two-line body) with %NEW_HEADERS% where swaks puts the X-RG-Token header.
message() {
	_mg_f=$1
	{
		echo "Date: Thu, 01 Jan 2026 00:00:00 +0000"
		echo "Message-ID: <$(basename "$_mg_f")@stranger.test>"
		echo "From: Someone <someone@stranger.test>"
		echo "To: Bob <bob@example.com>"
		echo "Subject: test $(basename "$_mg_f")"
		echo "%NEW_HEADERS%"
		echo ""
		echo "First line of the body."
		echo "Second line."
	} >"$_mg_f"
}

# received N: N "Received:" header lines.
received() {
	_rc_i=1
	while [ "$_rc_i" -le "$1" ]; do
		printf 'Received: from h%d.stranger.test by h%d.stranger.test; Thu, 1 Jan 2026 00:00:00 +0000\n' \
			"$_rc_i" "$((_rc_i + 1))"
		_rc_i=$((_rc_i + 1))
	done
}

# copies: the number of copies in the turf directory; newest_copy: the
# name of the newest.
copies() {
	ls "$turf/new" 2>/dev/null | wc -l | tr -d ' '
}
newest_copy() {
	ls -t "$turf/new" 2>/dev/null | head -n 1
}

# sent: the message the last dialogue sent, from swaks' transcript (what
# follows the 354 up to the lone dot), with LF line ends as turf stores it.
sent() {
	awk '/^<-  354 / { on = 1; next }
	on && /^ -> \.\r?$/ { exit }
	on { sub(/^ -> /, ""); sub(/\r$/, ""); print }' "$SMTP_OUT"
}

# not_delivered NAME: the last dialogue's message reached no sink.
not_delivered() {
	sleep 1
	if mta_sink_has "$SMTP_TOKEN"; then
		tap_fail "$1"
		tap_diag "a sink has it: $(mta_sink_file "$SMTP_TOKEN")"
	else
		tap_ok "$1"
	fi
}

# refusal_logged MARK CLIENT RCPT [DETAIL]: exactly one relayguard line since
# MARK refuses RCPT for CLIENT and names the relay check as the decider.
refusal_logged() {
	_rl_re="rcpt: reject 550 5\\.7\\.1 .*; by=relay detail=$(mta_ere "${4:-}").* client=unknown\\[$(mta_ere "$2")\\] .* to=<$(mta_ere "$3")>\$"
	mta_wait_log "$RG_LOG" "$1" "$_rl_re"
	_rl_n=$(mta_log_count "$RG_LOG" "$1" "$_rl_re")
	tap_is "$_rl_n" 1 "one log line: reject by=relay${4:+ detail=$4} client=[$2] to=<$3>"
}

# ---- relay from an untrusted client ----------------------------------------

mark=$(mta_log_mark "$RG_LOG")
sm_mark=$(mta_log_mark "$SM_LOG")
mta_smtp 127.0.0.3 --to relay1@else.test,bob@example.com
rcpt_is 1 '^550 5\.7\.1 <relay1@else\.test>\.\.\. Relaying denied$' \
	"127.0.0.3: RCPT <relay1@else.test> refused with 550 5.7.1 (Sendmail prefixes the address)"
rcpt_is 2 '^250 ' "127.0.0.3: RCPT <bob@example.com> in the same transaction accepted"
delivered_to bob "127.0.0.3: message delivered to bob (local mailer) only, not relay1@else.test"
refusal_logged "$mark" 127.0.0.3 relay1@else.test "domain not local"
refused="$refused relay1@else.test"
# Sendmail assigns the queue id at MAIL and sends it ("i") with MAIL and
# RCPT, so relayguard's refusal carries the id Sendmail logs for it
# (Postfix has none before DATA: NOQUEUE).
tap_check "relayguard's refusal carries Sendmail's queue id $SMTP_QID" \
	mta_log_has "$RG_LOG" "$mark" "relayguard\\[[0-9]*\\]: [a-z]*: $SMTP_QID: rcpt: reject 550 .* to=<relay1@else\\.test>\$"
tap_check "Sendmail logs the milter's refusal under the same id" \
	mta_log_has "$SM_LOG" "$sm_mark" " $SMTP_QID: Milter: to=<relay1@else\\.test>, reject=550 5\\.7\\.1 Relaying denied"

mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.9 --to relay2@ELSE.TEST.
rcpt_is 1 '^550 5\.7\.1 ' "127.0.0.9: RCPT <relay2@ELSE.TEST.> refused with 550 5.7.1"
tap_is "$SMTP_QID" "" "127.0.0.9: no message was queued"
refusal_logged "$mark" 127.0.0.9 relay2@ELSE.TEST. "domain not local"
refused="$refused relay2@"

# ---- local recipients and postmaster, from an untrusted client ---------------

# RCPT as typed, then the envelope recipient the LMTP sink must see.
for pair in alice@example.com:alice Carol@EXAMPLE.com:carol postmaster:postmaster \
	PostMaster:postmaster postmaster@example.com:postmaster POSTMASTER@Example.Com:postmaster; do
	typed=${pair%%:*}
	want=${pair#*:}
	mta_smtp 127.0.0.3 --to "$typed"
	if [ "$(smtp_code RCPT)" = 250 ] && [ "$(smtp_code DOT)" = 250 ]; then
		tap_ok "127.0.0.3: <$typed> accepted (RCPT and DATA 250)"
	else
		tap_fail "127.0.0.3: <$typed> accepted (RCPT and DATA 250)"
		tap_diag "$(cat "$SMTP_REPLIES")"
	fi
	delivered_to "$want" "127.0.0.3: <$typed> delivered by the local mailer as $want"
done

# ---- encapsulated addresses, from an untrusted client --------------------------

# Each form hides enc-*@else.test behind example.com.  A local recipient
# rides along in the same transaction, so the message does reach a sink:
# for dave only.
for form in 'enc-pct%else.test@example.com|percent hack' \
	'else.test!enc-bang@example.com|bang path' \
	'"enc-quote@else.test"@example.com|quoted local part' \
	'@example.com:enc-route@else.test|source route'; do
	addr=${form%|*}
	detail=${form#*|}
	mark=$(mta_log_mark "$RG_LOG")
	mta_smtp 127.0.0.4 --to "$addr,dave@example.com"
	rcpt_is 1 '^550 5\.7\.1 .*Source routes and encapsulated addresses are not accepted$' \
		"127.0.0.4: RCPT <$addr> refused with 550 5.7.1"
	delivered_to dave "127.0.0.4: the message reached dave only, not <$addr>"
	refusal_logged "$mark" 127.0.0.4 "$addr" "$detail"
done
refused="$refused enc-pct enc-bang enc-quote enc-route"

# Nested @: Sendmail's own refusal, before relayguard hears of it.
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.4 --to 'enc-nested@else.test@example.com,dave@example.com'
rcpt_is 1 '^553 5\.1\.3 .*Invalid route address$' \
	"127.0.0.4: RCPT <enc-nested@else.test@example.com> refused by Sendmail itself (553 5.1.3)"
delivered_to dave "127.0.0.4: the message reached dave only, not the nested address"
tap_is "$(mta_log_count "$RG_LOG" "$mark" 'enc-nested')" 0 \
	"relayguard never saw <enc-nested@else.test@example.com>"
refused="$refused enc-nested"

# Why they must be refused: relayguard leaves a trusted client's recipients
# to the MTA, and Sendmail itself relays four of these forms to the address
# hidden inside (see the top of this file).
for form in 'tr-pct%else.test@example.com|tr-pct@else.test' \
	'else.test!tr-bang@example.com|tr-bang@else.test' \
	'"tr-quote@else.test"@example.com|tr-quote@else.test' \
	'@example.com:tr-route@else.test|tr-route@else.test'; do
	addr=${form%|*}
	mta_smtp 127.0.0.1 --to "$addr"
	delivered_to "${form#*|}" "127.0.0.1 (trusted): Sendmail relays <$addr> to ${form#*|}"
done
mta_smtp 127.0.0.1 --to 'tr-nested@else.test@example.com'
rcpt_is 1 '^553 5\.1\.3 ' "127.0.0.1 (trusted): Sendmail refuses <tr-nested@else.test@example.com> itself"
refused="$refused tr-nested"

# ---- trusted clients relay -------------------------------------------------------

mta_smtp 127.0.0.1 --to trusted4@else.test
rcpt_is 1 '^250 ' "127.0.0.1 (trusted): RCPT <trusted4@else.test> accepted"
delivered_to trusted4@else.test "127.0.0.1 (trusted): relayed to trusted4@else.test"

# ::1: Sendmail writes the client as {client_addr} "IPv6:0:0:0:0:0:0:0:1"
# and passes the same text in the connect packet; relayguard must still
# see ::1, which it trusts.
if why=$(mta_smtp_v6); then
	mta_smtp ::1 --to trusted6@else.test
	rcpt_is 1 '^250 ' "::1 (trusted): RCPT <trusted6@else.test> accepted"
	delivered_to trusted6@else.test "::1 (trusted): relayed to trusted6@else.test"
else
	tap_skip "::1 (trusted): RCPT accepted" "$why"
	tap_skip "::1 (trusted): relayed" "$why"
fi

# ---- the interface a client connected to: {daemon_addr}, not {if_addr} ----------

# Sendmail sets {if_addr} only for addresses that are not loopback, so on
# loopback relayguard sees the interface in {daemon_addr}, which it asks
# for (smfi_setsymlist); Postfix sends {daemon_addr} and no {if_addr}.
mta_smtp 127.0.0.10 --to iface1@else.test --quit-after RCPT
rcpt_is 1 '^550 5\.7\.1 ' "127.0.0.10 to 127.0.0.1: RCPT <iface1@else.test> refused"
mta_smtp 127.0.0.10 --server 127.0.0.2 --to iface2@else.test
rcpt_is 1 '^250 ' "127.0.0.10 to 127.0.0.2 (internal_interfaces): RCPT <iface2@else.test> accepted"
delivered_to iface2@else.test "127.0.0.10 to 127.0.0.2: relayed to iface2@else.test"
refused="$refused iface1@"

# ---- authenticated clients relay (Sendmail AUTH, {auth_authen}) -------------------

if [ -z "$sasl_why" ]; then
	mta_smtp 127.0.0.6 --to sasl1@else.test
	rcpt_is 1 '^550 5\.7\.1 ' "127.0.0.6 without AUTH: RCPT <sasl1@else.test> refused"
	refused="$refused sasl1@"
	mta_smtp 127.0.0.6 --auth PLAIN --auth-user alice@example.com --auth-password s3cret \
		--to sasl2@else.test
	tap_like "$(smtp_reply AUTH)" '^235 ' "127.0.0.6: AUTH PLAIN as alice@example.com succeeds"
	rcpt_is 1 '^250 ' "127.0.0.6 after AUTH: RCPT <sasl2@else.test> accepted"
	delivered_to sasl2@else.test "127.0.0.6 after AUTH: relayed to sasl2@else.test"
else
	for n in "without AUTH refused" "AUTH succeeds" "after AUTH accepted" "after AUTH relayed"; do
		tap_skip "127.0.0.6 $n" "$sasl_why"
	done
fi

# ---- a milter connection reused for a new SMTP session (SMFIC_QUIT_NC) -------------

# libmilter lets an MTA end an SMTP session and start the next one on the
# same milter connection (SMFIC_QUIT_NC after end of message: xxfi_close,
# then a new connect on the same context).  This Sendmail opens one milter
# connection per SMTP session and never sent it here, so a small client
# speaks the milter protocol itself: an authenticated session from a
# stranger relays, then the next session on the same connection, same
# address but no AUTH, must be judged from scratch.
mark=$(mta_log_mark "$RG_LOG")
perl -MIO::Socket::IP -e '
	my $s = IO::Socket::IP->new(PeerHost => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 5)
	    or die "connect: $!\n";
	$SIG{ALRM} = sub { die "timeout\n" };
	alarm 20;
	sub pkt { my ($c, $d) = @_; $d = "" unless defined $d; print $s pack("N", 1 + length $d), $c, $d }
	sub reply {
		my ($h, $b);
		read($s, $h, 4) == 4 or die "eof\n";
		my $n = unpack("N", $h);
		read($s, $b, $n) == $n or die "short read\n";
		$b =~ s/\0\z//;
		return $b;
	}
	sub macros { my ($st, @kv) = @_; pkt("D", $st . join("", map { "$_\0" } @kv)) }
	sub session {
		my ($n, $ip, @auth) = @_;
		macros("C", "j", "mx.example.com", "{daemon_addr}", "127.0.0.1", "{client_addr}", $ip);
		pkt("C", "[$ip]\0" . "4" . pack("n", 4000 + $n) . "$ip\0");
		print "CONNECT$n ", reply(), "\n";
		macros("M", "i", "QUITNC$n", @auth);
		pkt("M", "<nc$n\@stranger.test>\0");
		print "MAIL$n ", reply(), "\n";
		macros("R", "i", "QUITNC$n", "{rcpt_mailer}", "relay", "{rcpt_addr}", "nc$n\@else.test");
		pkt("R", "<nc$n\@else.test>\0");
		print "RCPT$n ", reply(), "\n";
	}
	pkt("O", pack("NNN", 6, 0x1ff, 0x1fffff));
	reply() =~ /^O/ or die "no option negotiation\n";
	session(1, "203.0.113.7", "{auth_authen}", "alice\@example.com", "{auth_type}", "PLAIN");
	pkt("E");
	my $r;
	do { $r = reply() } while ($r !~ /^[acdrty]/);
	print "EOM1 $r\n";
	pkt("K");
	session(2, "203.0.113.7");
	pkt("Q");' "$RG_PORT" >"$RG_TMP/quit-nc.out" 2>&1
tap_is "$(sed -n 's/^RCPT1 //p' "$RG_TMP/quit-nc.out")" c \
	"milter session 1 (AUTH alice): RCPT <nc1@else.test> continues"
tap_is "$(sed -n 's/^RCPT2 //p' "$RG_TMP/quit-nc.out")" "y550 5.7.1 Relaying denied" \
	"milter session 2 after SMFIC_QUIT_NC, no AUTH: RCPT <nc2@else.test> refused"
tap_check "relayguard logs session 2's refusal under its own queue id" \
	mta_log_has "$RG_LOG" "$mark" ": QUITNC2: rcpt: reject 550 5\\.7\\.1 .*client=unknown\\[203\\.0\\.113\\.7\\] .*to=<nc2@else\\.test>\$"

# ---- hop limit: relayguard's, not Sendmail's ------------------------------------

# Sendmail's own MaxHopCount (25) does not refuse at SMTP time: it
# accepts such a message with 250 and bounces it later (LIBRARIES 6).
# relayguard's max_hops (20 here) refuses at end of data, so the client
# keeps the message and nothing is queued.
for n in 20 21 30; do
	message "$RG_TMP/hops$n"
	{
		received "$n"
		cat "$RG_TMP/hops$n"
	} >"$RG_TMP/hops$n.msg"
	mark=$(mta_log_mark "$RG_LOG")
	mta_smtp 127.0.0.3 --to bob@example.com --data "$RG_TMP/hops$n.msg"
	if [ "$n" -le 20 ]; then
		tap_like "$(smtp_reply DOT)" '^250 ' "$n Received: headers: accepted (250)"
		delivered_to bob "$n Received: headers: delivered"
	else
		tap_like "$(smtp_reply DOT)" '^554 5\.4\.6 Too many hops' \
			"$n Received: headers: 554 5.4.6 Too many hops at end of data"
		tap_is "$SMTP_QID" "" "$n Received: headers: nothing queued"
		mta_wait_log "$RG_LOG" "$mark" ': [0-9A-Za-z]+: header: reject 554 5\.4\.6 Too many hops; by=hops detail=more than 20 Received: headers'
		tap_is "$(mta_log_count "$RG_LOG" "$mark" 'by=hops')" 1 \
			"$n Received: headers: one log line by=hops, with Sendmail's queue id"
	fi
done

# ---- turf: accepted, kept in turf_dir, never delivered --------------------------

message "$RG_TMP/turf1.msg"
mark=$(mta_log_mark "$RG_LOG")
sm_mark=$(mta_log_mark "$SM_LOG")
mta_smtp 127.0.0.3 --from loopy@stranger.test --to bob@example.com --data "$RG_TMP/turf1.msg"
tap_like "$(smtp_reply DOT)" '^250 ' "turf_senders: the client sees 250 at the end"
turf_qid=$SMTP_QID
token1=$SMTP_TOKEN
not_delivered "turf_senders: nothing reached the sinks"
tap_is "$(copies)" 1 "turf_senders: one copy in turf_dir/new"
id=$(newest_copy)
copy=$turf/new/$id
sent >"$RG_TMP/turf1.sent"
if sed '1,/^X-Relayguard-End: envelope$/d' "$copy" | cmp -s - "$RG_TMP/turf1.sent"; then
	tap_ok "turf_senders: the copy holds the message exactly as sent"
else
	tap_fail "turf_senders: the copy holds the message exactly as sent"
	tap_diag "$(sed '1,/^X-Relayguard-End: envelope$/d' "$copy" | diff "$RG_TMP/turf1.sent" - | head -20)"
fi
# Sendmail's queue id came with MAIL: the copy names the id Sendmail gave
# the client (Postfix's comes with DATA).
for want in "X-Relayguard-Queue-Id: $turf_qid" "X-Relayguard-Rule: turf" \
	"X-Relayguard-Sender: <loopy@stranger.test>" "X-Relayguard-Recipient: <bob@example.com> turfed"; do
	tap_check "turf_senders: envelope has \"$want\"" grep -qxF -- "$want" "$copy"
done
tap_check "turf_senders: one log line naming the copy" \
	mta_wait_log "$RG_LOG" "$mark" ": $turf_qid: eom: turf; by=turf detail=turf_senders <loopy@stranger\\.test> copy=$(mta_ere "$id") client="
tap_check "turf_senders: Sendmail logged the milter's discard" \
	mta_wait_log "$SM_LOG" "$sm_mark" " $turf_qid: Milter: data, discard"

# ---- quarantine: Sendmail's quarantine queue -------------------------------------

# A turfed message over turf_max_size (4 KiB) gets no copy: relayguard
# asks the MTA to hold it instead (smfi_quarantine), which in Sendmail
# renames the queue file qf -> hf, with the reason.
message "$RG_TMP/big.msg"
{
	i=0
	while [ "$i" -lt 80 ]; do
		printf 'X-Filler-%d: %0100d\n' "$i" "$i"
		i=$((i + 1))
	done
	cat "$RG_TMP/big.msg"
} >"$RG_TMP/big2.msg"
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.3 --from loopy@stranger.test --to bob@example.com --data "$RG_TMP/big2.msg"
tap_like "$(smtp_reply DOT)" '^250 ' "over turf_max_size: the client sees 250"
big_qid=$SMTP_QID
big_token=$SMTP_TOKEN
not_delivered "over turf_max_size: nothing reached the sinks"
tap_is "$(copies)" 1 "over turf_max_size: no copy in turf_dir"
tap_check "over turf_max_size: Sendmail holds it as hf$big_qid" test -f "$SM_QUEUE/hf$big_qid"
tap_check "over turf_max_size: relayguard logs the quarantine" \
	mta_log_has "$RG_LOG" "$mark" ": $big_qid: eom: quarantine; by=turf .*over turf_max_size, held in the MTA"
mta_sendmail_command -bp -qQ >"$RG_TMP/mailq-qQ.out" 2>&1
tap_check "over turf_max_size: mailq -qQ lists it" grep -q "^$big_qid" "$RG_TMP/mailq-qQ.out"
tap_check "over turf_max_size: with relayguard's reason (mailq cuts it)" \
	grep -q 'QUARANTINE: relayguard: turf: turf_senders <loopy@stranger.test>; over' "$RG_TMP/mailq-qQ.out"
tap_check "over turf_max_size: Sendmail logs the whole reason" \
	mta_log_has "$SM_LOG" 0 " $big_qid: milter=relayguard, quarantine=relayguard: turf: turf_senders <loopy@stranger\\.test>; over turf_max_size\$"
# Released by the administrator: unquarantined, then a queue run delivers it.
mta_sendmail_command -Q -qQ "-qI$big_qid" >>"$RG_TMP/sendmail.out" 2>&1
tap_check "released (sendmail -Q -qQ -qI$big_qid): qf$big_qid again" test -f "$SM_QUEUE/qf$big_qid"
mta_sendmail_command "-qI$big_qid" >>"$RG_TMP/sendmail.out" 2>&1
SMTP_QID=$big_qid SMTP_TOKEN=$big_token
delivered_to bob "released: a queue run delivers it to bob"

# ---- relayguard turf release, through this Sendmail ------------------------------

out=$("$RELAYGUARD" -c "$conf" turf release "$id" 2>&1)
tap_is "$out" "released $id to 1 recipient" "turf release: Sendmail accepted it (sendmail -i -f ... --)"
tap_check "turf release: the copy is gone" test ! -e "$copy"
if mta_wait_until 30 mta_sink_has "$token1"; then
	tap_is "$(mta_sink_rcpts "$token1")" bob "turf release: the LMTP sink got it, for bob"
else
	tap_fail "turf release: the sinks got it"
fi

# ---- reload --------------------------------------------------------------------

mta_smtp 127.0.0.7 --to new1@example.org
rcpt_is 1 '^550 5\.7\.1 ' "before reload: RCPT <new1@example.org> refused"
refused="$refused new1@"

rg_conf "example.com example.org"
mta_rg_reload
tap_is "$?" 0 "SIGHUP: relayguard reloads the new config"
tap_check "the log names the new generation" \
	mta_log_has "$RG_LOG" "$RG_MARK" ": reloaded $(mta_ere "$conf")[ (].*generation 2 replaces 1"

# example.org is not in Sendmail's class w: it leaves by the smart host.
mta_smtp 127.0.0.7 --to new2@example.org
rcpt_is 1 '^250 ' "after reload: RCPT <new2@example.org> accepted"
delivered_to new2@example.org "after reload: delivered to new2@example.org"

# A broken file that would also drop example.org: all or nothing.
rg_conf example.com "no_such_key = 1"
line=$(grep -n '^no_such_key' "$conf" | cut -d: -f1)
mta_rg_reload
tap_is "$?" 1 "SIGHUP with a broken config: the reload is refused"
tap_check "the log names the problem as file:line: problem" \
	mta_log_has "$RG_LOG" "$RG_MARK" "$(mta_ere "$conf"):$line: unknown key \"no_such_key\""
tap_check "the log says generation 2 keeps running" \
	mta_log_has "$RG_LOG" "$RG_MARK" "error: reload .*$(mta_ere "$conf") failed .*; still running generation 2\$"

mta_smtp 127.0.0.7 --to new3@example.org
rcpt_is 1 '^250 ' "after the failed reload: <new3@example.org> still accepted (old config kept)"
delivered_to new3@example.org "after the failed reload: delivered to new3@example.org"
mta_smtp 127.0.0.7 --to relay3@else.test
rcpt_is 1 '^550 5\.7\.1 ' "after the failed reload: relay to <relay3@else.test> still refused"
refused="$refused relay3@"

# ---- stop, and Sendmail with relayguard down ---------------------------------------

sm_mark=$(mta_log_mark "$SM_LOG")
t0=$(date +%s)
mta_rg_stop
tap_is "$?:$RG_STATUS" "0:0" "SIGTERM: relayguard's master and worker exit, status 0"
tap_diag "relayguard stopped in $(($(date +%s) - t0)) s"
tap_check "nothing listens on the milter port any more" \
	mta_dead_port "$RG_PORT"

# relayguard down means 4xx, never 5xx and never a silent accept (F=T):
# Sendmail greets and answers EHLO, then tempfails MAIL with 451 4.3.2.
mta_smtp 127.0.0.8 --to down1@example.com
first=$(grep -v '^BANNER ' "$SMTP_REPLIES" | grep -v '^[A-Z]* 2' | grep -v '^QUIT ' | head -n 1)
tap_like "$first" '^MAIL 451 4\.3\.2 ' "relayguard down: Sendmail answers MAIL with 451 4.3.2 (F=T)"
tap_is "$SMTP_QID" "" "relayguard down: nothing was queued"
tap_check "Sendmail logs that it tempfails for the filter" \
	mta_log_has "$SM_LOG" "$sm_mark" "Milter: initialization failed, temp failing commands"
mta_smtp 127.0.0.1 --to down2@else.test
tap_is "$SMTP_QID" "" "relayguard down: not even a trusted client's mail is queued"

rg_conf "example.com example.org"
mta_rg_start "$conf" || tap_bail "relayguard did not start again (see $RG_LOG)"
mta_smtp 127.0.0.8 --to down1@example.com
delivered_to down1 "relayguard back: the retried message is delivered"

# ---- what never happened ------------------------------------------------------------

tap_check "Sendmail's queue is empty at the end" mta_wait_until 10 mta_sendmail_queue_empty
for r in $refused; do
	if mta_sink_rcpt_seen "$r"; then
		tap_fail "nothing for refused recipient $r* reached the sinks"
	else
		tap_ok "nothing for refused recipient $r* reached the sinks"
	fi
done
# Every 5xx a client saw at RCPT, but for Sendmail's own 553 to the nested
# @ form, came from relayguard and was logged once (QUITNC2 is the
# protocol-level session above, not an SMTP client).
seen=$(cat "$RG_TMP"/smtp/*.replies | grep '^RCPT 5' | grep -vc ' Invalid route address$')
logged=$(grep ': rcpt: reject 5' "$RG_LOG" | grep -vc ': QUITNC2: ')
tap_is "$logged" "$seen" "one relayguard log line for each of the $seen RCPT refusals clients saw"
n=$(head -n "$sm_mark" "$SM_LOG" | grep -Eic 'Milter \(relayguard\): .*(error|timeout|to error state|bogus)')
tap_is "$n" 0 "Sendmail logged no milter error while relayguard ran"
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
