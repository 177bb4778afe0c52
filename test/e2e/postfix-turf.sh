#!/bin/sh
# postfix-turf.sh - hops, loops, auto-replies and the turf directory end to
# end behind a real Postfix (TAP; the harness is test/lib/mta.sh).
#
# Postfix relays everything to an smtp-sink, so what reached the sink is
# what was delivered.  Checked: 49, 50, 51 and 200 Received: headers
# against max_hops 50 (Postfix's own hopcount_limit raised, so the refusal
# is relayguard's); a turfed sender (the client sees 250, the sink nothing,
# turf_dir holds the exact message and its envelope); a turf_dir the filter
# cannot write (451, and nothing lost: Postfix queued nothing, the retry
# goes through); an NDR ping-pong (the same bounce again and again) turfed
# after loop_max, the first message named; an auto-reply from inside
# turfed for an outside recipient and delivered to a local one; a bounce
# copied to the postmaster; a 90 KiB header and 500 headers passing through;
# "relayguard turf release" putting a copy back
# through Postfix's sendmail to the sink.  relayguard runs as nobody, which
# owns the turf directory.
. "${top_srcdir:-.}/test/lib/mta.sh"

started=$(date +%s)
mta_require_postfix
mta_init

turf=$RG_TMP/turf
mkdir "$turf"
chown "$RG_USER" "$turf"
chmod 700 "$turf"
conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/postfix-turf.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
turf_dir = $turf
turf_senders = loopy@stranger.test
loop_max = 3
loop_window = 1h
block_external_autoreplies = yes
ndr_copy_to = postmaster@example.com
EOF

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
# Postfix refuses 50 Received: headers itself (its own is counted too):
# leave the hop count to relayguard.
mta_postfix_set "hopcount_limit = 1000"
mta_postfix_start

# ---- helpers of this test ----------------------------------------------------

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

# received N: N "Received:" header arguments for message().
received() {
	_rc_i=1
	while [ "$_rc_i" -le "$1" ]; do
		printf 'Received: from h%d.stranger.test by h%d.stranger.test; Thu, 1 Jan 2026 00:00:00 +0000\n' \
			"$_rc_i" "$((_rc_i + 1))"
		_rc_i=$((_rc_i + 1))
	done
}

# copies: the number of copies in the turf directory.
copies() {
	ls "$turf/new" 2>/dev/null | wc -l | tr -d ' '
}

# newest_copy: the name of the newest copy.
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

# not_delivered NAME: the last dialogue's message never reached the sink.
not_delivered() {
	sleep 1
	if mta_sink_has "$SMTP_TOKEN"; then
		tap_fail "$1"
		tap_diag "the sink has it: $(mta_sink_file "$SMTP_TOKEN")"
	else
		tap_ok "$1"
	fi
}

# delivered_to "ADDR..." NAME: delivered, to exactly these envelope recipients.
delivered_to() {
	_dt_want=$(printf '%s\n' $1 | sort)
	if ! mta_wait_delivered; then
		tap_fail "$2"
		tap_diag "not delivered (queue id '${SMTP_QID}'); replies: $(cat "$SMTP_REPLIES")"
		return 1
	fi
	tap_is "$(mta_sink_rcpts "$SMTP_TOKEN")" "$_dt_want" "$2"
}

# ---- hop count: 49 and 50 pass, 51 and 200 are refused ------------------------

for n in 49 50 51 200; do
	message "$RG_TMP/hops$n"
	{
		received "$n"
		cat "$RG_TMP/hops$n"
	} >"$RG_TMP/hops$n.msg"
	mark=$(mta_log_mark "$RG_LOG")
	mta_smtp 127.0.0.2 --to bob@example.com --data "$RG_TMP/hops$n.msg"
	if [ "$n" -le 50 ]; then
		tap_like "$(smtp_reply DOT)" '^250 ' "$n Received: headers: accepted (250)"
		delivered_to bob@example.com "$n Received: headers: delivered"
	else
		tap_like "$(smtp_reply DOT)" '^554 5\.4\.6 Too many hops' "$n Received: headers: 554 5.4.6 Too many hops"
		tap_is "$SMTP_QID" "" "$n Received: headers: nothing queued"
		mta_wait_log "$RG_LOG" "$mark" 'header: reject 554 5\.4\.6 Too many hops; by=hops detail=more than 50 Received: headers'
		tap_is "$(mta_log_count "$RG_LOG" "$mark" 'by=hops')" 1 "$n Received: headers: one log line by=hops"
	fi
done

# ---- hostile sizes: a 90 KiB header and 500 more; delivered, no milter
# ---- error (this Postfix passes the milter at most about 60 KiB of it)
message "$RG_TMP/big"
{
	printf 'X-Big: start\n'
	i=0
	while [ "$i" -lt 100 ]; do
		printf '\t%0900d\n' "$i"
		i=$((i + 1))
	done
	i=0
	while [ "$i" -lt 500 ]; do
		printf 'X-Filler-%d: %d\n' "$i" "$i"
		i=$((i + 1))
	done
	cat "$RG_TMP/big"
} >"$RG_TMP/big.msg"
mta_smtp 127.0.0.5 --to bob@example.com --data "$RG_TMP/big.msg"
tap_like "$(smtp_reply DOT)" '^250 ' "a 90 KiB header and 500 more: accepted"
delivered_to bob@example.com "a 90 KiB header and 500 more: delivered"

# ---- a turfed sender --------------------------------------------------------------

message "$RG_TMP/turf1.msg"
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.3 --from loopy@stranger.test --to bob@example.com --data "$RG_TMP/turf1.msg"
tap_like "$(smtp_reply RCPT)" '^250 ' "turf_senders: RCPT accepted"
tap_like "$(smtp_reply DOT)" '^250 ' "turf_senders: the client sees 250 at the end"
not_delivered "turf_senders: nothing reached the sink"
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
for want in "X-Relayguard-Turf: $id" "X-Relayguard-Rule: turf" \
	"X-Relayguard-Detail: turf_senders <loopy@stranger.test>" \
	"X-Relayguard-Client: unknown [127.0.0.3]" "X-Relayguard-Helo: client.test" \
	"X-Relayguard-Sender: <loopy@stranger.test>" "X-Relayguard-Recipient: <bob@example.com> turfed"; do
	tap_check "turf_senders: envelope has \"$want\"" grep -qxF -- "$want" "$copy"
done
tap_check "turf_senders: envelope has the queue id" grep -qE '^X-Relayguard-Queue-Id: [0-9A-Za-z]+$' "$copy"
tap_check "turf_senders: envelope has the time" grep -qE '^X-Relayguard-Time: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$copy"
tap_check "turf_senders: the copy belongs to relayguard's user, mode 0600" \
	test "$(stat -c '%U %a' "$copy")" = "$RG_USER 600"
mta_wait_log "$RG_LOG" "$mark" "eom: turf; by=turf detail=turf_senders <loopy@stranger\\.test> copy=$(mta_ere "$id")"
tap_is "$(mta_log_count "$RG_LOG" "$mark" "eom: turf; by=turf .*copy=$(mta_ere "$id")")" 1 "turf_senders: one log line naming the copy"
tap_check "turf_senders: Postfix logged the milter's discard" \
	mta_wait_log "$PF_LOG" 0 'milter triggers DISCARD action'

# ---- a turf_dir relayguard cannot write: 451, nothing lost ---------------------------

chmod -R 500 "$turf"
message "$RG_TMP/turf2.msg"
mta_smtp 127.0.0.3 --from loopy@stranger.test --to bob@example.com --data "$RG_TMP/turf2.msg"
tap_like "$(smtp_reply DOT)" '^451 4\.3\.0 ' "read-only turf_dir: the client sees 451 4.3.0"
tap_is "$SMTP_QID" "" "read-only turf_dir: Postfix queued nothing (the client keeps the message)"
not_delivered "read-only turf_dir: nothing reached the sink"
tap_is "$(copies)" 1 "read-only turf_dir: no new copy"
chmod -R u+w "$turf"
mta_smtp 127.0.0.3 --from loopy@stranger.test --to bob@example.com --data "$RG_TMP/turf2.msg"
tap_like "$(smtp_reply DOT)" '^250 ' "writable again: the client's retry gets 250"
tap_is "$(copies)" 2 "writable again: the retry is kept"

# ---- an NDR ping-pong: turfed after loop_max, the first message named; NDR copies ----

# The same bounce, five times: a null sender, the same recipient, Subject and body.
cat >"$RG_TMP/bounce.msg" <<'EOF'
Date: Thu, 01 Jan 2026 00:00:00 +0000
From: MAILER-DAEMON@stranger.test (Mail Delivery System)
To: alice@example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
%NEW_HEADERS%

This is the mail system at host mx.stranger.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.
EOF
first=
for i in 1 2 3 4 5; do
	mark=$(mta_log_mark "$RG_LOG")
	mta_smtp 127.0.0.4 --from '<>' --to alice@example.com --data "$RG_TMP/bounce.msg"
	tap_like "$(smtp_reply DOT)" '^250 ' "bounce $i: the client sees 250"
	if [ "$i" -le 3 ]; then
		[ -n "$first" ] || first=$SMTP_QID
		delivered_to "alice@example.com postmaster@example.com" \
			"bounce $i: delivered, with the copy for ndr_copy_to"
	else
		not_delivered "bounce $i: more than loop_max: turfed, nothing reached the sink"
		mta_wait_log "$RG_LOG" "$mark" "eom: turf; by=loop "
		tap_check "bounce $i: the log names the first message of the loop ($first)" \
			mta_log_has "$RG_LOG" "$mark" "eom: turf; by=loop detail=<alice@example\\.com> \\(more than 3 copies in 3600s, first message $first\\) copy="
	fi
done
tap_is "$(copies)" 4 "the ping-pong's turfed bounces are in turf_dir"

# ---- auto-replies from inside: turfed for outside, delivered inside -------------------

cat >"$RG_TMP/ooo.msg" <<'EOF'
From: Bob <bob@example.com>
Subject: Out of office: re: hello
Auto-Submitted: auto-replied
%NEW_HEADERS%

I am away until Monday.
EOF
mta_smtp 127.0.0.1 --from bob@example.com --to friend@else.test --data "$RG_TMP/ooo.msg"
tap_like "$(smtp_reply DOT)" '^250 ' "auto-reply to outside: the client sees 250"
not_delivered "auto-reply to outside: turfed, not delivered"
tap_is "$(copies)" 5 "auto-reply to outside: copy kept"
mta_smtp 127.0.0.1 --from bob@example.com --to carol@example.com --data "$RG_TMP/ooo.msg"
delivered_to carol@example.com "auto-reply to a local recipient: delivered"
mta_smtp 127.0.0.1 --from bob@example.com --to carol@example.com,friend@else.test --data "$RG_TMP/ooo.msg"
delivered_to carol@example.com "auto-reply to both: delivered inside only"
tap_is "$(copies)" 6 "auto-reply to both: a copy for the outside recipient"

# ---- relayguard turf list / release through Postfix's sendmail ---------------------

list=$("$RELAYGUARD" -c "$conf" turf list 2>&1)
tap_like "$(printf '%s\n' "$list" | grep -F "$id")" \
	"^$(mta_ere "$id")	[0-9T:Z-]+	[0-9]+	turf	<loopy@stranger\\.test>	<bob@example\\.com>\$" \
	"turf list: id, time, size, rule, sender, recipients"
tap_is "$(printf '%s\n' "$list" | grep -vc '^#')" 6 "turf list: six copies"
token1=$(sed -n 's/^X-RG-Token: //p' "$copy")
out=$(MAIL_CONFIG=$PF_ETC "$RELAYGUARD" -c "$conf" turf release "$id" 2>&1)
tap_is "$out" "released $id to 1 recipient" "turf release: sendmail accepted it"
tap_check "turf release: the copy is gone" test ! -e "$copy"
if mta_wait_until 30 mta_sink_has "$token1"; then
	tap_is "$(mta_sink_rcpts "$token1")" bob@example.com "turf release: the sink got it, for bob@example.com"
	tap_check "turf release: with the original From:" grep -q '^From: Someone <someone@stranger.test>' \
		"$(mta_sink_file "$token1")"
else
	tap_fail "turf release: the sink got it"
fi

# ---- what never happened ---------------------------------------------------------

tap_check "Postfix's queue is empty at the end" mta_wait_until 10 mta_postfix_queue_empty
n=$(grep -ci 'warning:.*milter' "$PF_LOG")
tap_is "$n" 0 "Postfix logged no milter warning"
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
