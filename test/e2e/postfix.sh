#!/bin/sh
# postfix.sh - relayguard end to end behind a real Postfix (TAP).
#
# A throwaway Postfix on loopback is an open relay of its own (see
# test/lib/mta.sh) and relays everything to an smtp-sink, so relayguard is
# the only thing between a client and the sink.  Real SMTP clients (swaks)
# connect from different loopback addresses: 127.0.0.1 and ::1 are trusted,
# 127.0.0.2 and up are strangers.  Each check looks at what the client was
# told, what reached the sink, and what relayguard logged; then reload,
# broken reload, stop, and Postfix with relayguard down.
#
# What Postfix 3.7 does with the encapsulated forms (example.com is in its
# mydestination, allow_percent_hack and swap_bangpath at their defaults,
# no milter): it accepts all five at RCPT and relays each to
# user@else.test: "user%else.test@example.com" and "else.test!user@
# example.com" by its percent hack and bang-path rewriting of a local
# domain; "user@else.test"@example.com and user@else.test@example.com (which
# it quotes into the former) by stripping its own domain from the quoted
# local part; @example.com:user@else.test by dropping the source route.
# Postfix rejects none of them itself (checked below from a trusted client,
# whose recipients relayguard leaves to the MTA), and passes each to the
# milter as the client typed it, so the refusal a stranger sees is
# relayguard's (route_reply, 550 5.7.1) at RCPT.
. "${top_srcdir:-.}/test/lib/mta.sh"

started=$(date +%s)
mta_require_postfix
mta_init

conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/postfix.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
EOF

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
sasl_why=
mta_postfix_sasl alice@example.com 's3cret' >>"$RG_TMP/postfix.out" 2>&1 ||
	sasl_why="no Cyrus SASL here (apt-get install sasl2-bin libsasl2-modules)"
mta_postfix_start
refused= # envelope recipients that must never reach the sink

# ---- helpers of this test --------------------------------------------------

# rcpt_is N ERE NAME: the reply to the Nth RCPT of the last dialogue.
rcpt_is() {
	tap_like "$(smtp_reply RCPT "$1")" "$2" "$3"
}

# delivered_to "ADDR..." NAME: the last dialogue's message was delivered,
# and the sink got it for exactly these envelope recipients.
delivered_to() {
	_dt_want=$(printf '%s\n' $1 | sort)
	if ! mta_wait_delivered; then
		tap_fail "$2"
		tap_diag "not delivered (queue id '${SMTP_QID}'); replies:"
		tap_diag "$(cat "$SMTP_REPLIES")"
		return 1
	fi
	_dt_got=$(mta_sink_rcpts "$SMTP_TOKEN")
	tap_is "$_dt_got" "$_dt_want" "$2"
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
mta_smtp 127.0.0.2 --to relay1@else.test,bob@example.com
rcpt_is 1 '^550 5\.7\.1 Relaying denied$' "127.0.0.2: RCPT <relay1@else.test> refused with 550 5.7.1"
rcpt_is 2 '^250 ' "127.0.0.2: RCPT <bob@example.com> in the same transaction accepted"
delivered_to bob@example.com "127.0.0.2: message delivered to bob@example.com only, not relay1@else.test"
refusal_logged "$mark" 127.0.0.2 relay1@else.test "domain not local"
refused="$refused relay1@else.test"

mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.9 --to relay2@ELSE.TEST.
rcpt_is 1 '^550 5\.7\.1 ' "127.0.0.9: RCPT <relay2@ELSE.TEST.> refused with 550 5.7.1"
tap_is "$SMTP_QID" "" "127.0.0.9: no message was queued"
refusal_logged "$mark" 127.0.0.9 relay2@ELSE.TEST. "domain not local"
refused="$refused relay2@"

# ---- local recipients and postmaster, from an untrusted client ---------------

# RCPT as typed, then the envelope recipient the sink must see (Postfix
# qualifies a bare local part with myorigin = example.com).
for pair in alice@example.com:alice@example.com Carol@EXAMPLE.com:Carol@EXAMPLE.com \
	postmaster:postmaster@example.com PostMaster:PostMaster@example.com \
	postmaster@example.com:postmaster@example.com POSTMASTER@Example.Com:POSTMASTER@Example.Com; do
	typed=${pair%%:*}
	want=${pair#*:}
	mta_smtp 127.0.0.3 --to "$typed"
	if [ "$(smtp_code RCPT)" = 250 ] && [ "$(smtp_code DOT)" = 250 ]; then
		tap_ok "127.0.0.3: <$typed> accepted (RCPT and DATA 250)"
	else
		tap_fail "127.0.0.3: <$typed> accepted (RCPT and DATA 250)"
		tap_diag "$(cat "$SMTP_REPLIES")"
	fi
	delivered_to "$want" "127.0.0.3: <$typed> delivered to the sink as $want"
done

# ---- encapsulated addresses, from an untrusted client --------------------------

# Each form hides enc-*@else.test behind example.com.  A local recipient
# rides along in the same transaction, so the message does reach the sink:
# for dave@example.com only.
for form in 'enc-pct%else.test@example.com|percent hack' \
	'else.test!enc-bang@example.com|bang path' \
	'"enc-quote@else.test"@example.com|quoted local part' \
	'@example.com:enc-route@else.test|source route' \
	'enc-nested@else.test@example.com|nested @'; do
	addr=${form%|*}
	detail=${form#*|}
	mark=$(mta_log_mark "$RG_LOG")
	mta_smtp 127.0.0.4 --to "$addr,dave@example.com"
	rcpt_is 1 '^550 5\.7\.1 Source routes and encapsulated addresses are not accepted$' \
		"127.0.0.4: RCPT <$addr> refused with 550 5.7.1"
	delivered_to dave@example.com "127.0.0.4: the message reached dave@example.com only, not <$addr>"
	refusal_logged "$mark" 127.0.0.4 "$addr" "$detail"
done
refused="$refused enc-pct enc-bang enc-quote enc-route enc-nested"

# Why they must be refused: relayguard leaves a trusted client's recipients
# to the MTA, and Postfix itself relays every one of these forms to the
# address hidden inside (see the top of this file).
for form in 'tr-pct%else.test@example.com|tr-pct@else.test' \
	'else.test!tr-bang@example.com|tr-bang@else.test' \
	'"tr-quote@else.test"@example.com|tr-quote@else.test' \
	'@example.com:tr-route@else.test|tr-route@else.test' \
	'tr-nested@else.test@example.com|tr-nested@else.test'; do
	addr=${form%|*}
	mta_smtp 127.0.0.1 --to "$addr"
	delivered_to "${form#*|}" "127.0.0.1 (trusted): Postfix relays <$addr> to ${form#*|}"
done

# ---- trusted clients relay -------------------------------------------------------

mta_smtp 127.0.0.1 --to trusted4@else.test
rcpt_is 1 '^250 ' "127.0.0.1 (trusted): RCPT <trusted4@else.test> accepted"
delivered_to trusted4@else.test "127.0.0.1 (trusted): relayed to trusted4@else.test"

# ::1 is the only IPv6 loopback address and it is trusted: test v6 trusted.
if why=$(mta_smtp_v6); then
	mta_smtp ::1 --to trusted6@else.test
	rcpt_is 1 '^250 ' "::1 (trusted): RCPT <trusted6@else.test> accepted"
	delivered_to trusted6@else.test "::1 (trusted): relayed to trusted6@else.test"
else
	tap_skip "::1 (trusted): RCPT accepted" "$why"
	tap_skip "::1 (trusted): relayed" "$why"
fi

# ---- authenticated clients relay (Postfix SASL, {auth_authen}) -------------------

if [ -z "$sasl_why" ]; then
	mark=$(mta_log_mark "$RG_LOG")
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

# ---- reload --------------------------------------------------------------------

mta_smtp 127.0.0.7 --to new1@example.org
rcpt_is 1 '^550 5\.7\.1 ' "before reload: RCPT <new1@example.org> refused"
refused="$refused new1@"

mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/postfix.sh, with a second local domain
local_domains = example.com example.org
trusted_networks = 127.0.0.1/32 ::1/128
EOF
mta_rg_reload
tap_is "$?" 0 "SIGHUP: relayguard reloads the new config"
tap_check "the log names the new generation" \
	mta_log_has "$RG_LOG" "$RG_MARK" ": reloaded $(mta_ere "$conf")[ (].*generation 2 replaces 1"

mta_smtp 127.0.0.7 --to new2@example.org
rcpt_is 1 '^250 ' "after reload: RCPT <new2@example.org> accepted"
delivered_to new2@example.org "after reload: delivered to new2@example.org"

# A broken file that would also drop example.org: all or nothing.
mta_write "$conf" <<EOF
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
no_such_key = 1
EOF
mta_rg_reload
tap_is "$?" 1 "SIGHUP with a broken config: the reload is refused"
tap_check "the log names the problem as file:line: problem" \
	mta_log_has "$RG_LOG" "$RG_MARK" "$(mta_ere "$conf"):3: unknown key \"no_such_key\""
tap_check "the log says generation 2 keeps running" \
	mta_log_has "$RG_LOG" "$RG_MARK" "error: reload .*$(mta_ere "$conf") failed .*; still running generation 2\$"

mta_smtp 127.0.0.7 --to new3@example.org
rcpt_is 1 '^250 ' "after the failed reload: <new3@example.org> still accepted (old config kept)"
delivered_to new3@example.org "after the failed reload: delivered to new3@example.org"
mta_smtp 127.0.0.7 --to relay3@else.test
rcpt_is 1 '^550 5\.7\.1 ' "after the failed reload: relay to <relay3@else.test> still refused"
refused="$refused relay3@"

# ---- stop, and Postfix with relayguard down ---------------------------------------

pf_mark=$(mta_log_mark "$PF_LOG")
t0=$(date +%s)
mta_rg_stop
tap_is "$?:$RG_STATUS" "0:0" "SIGTERM: relayguard's master and worker exit, status 0"
tap_diag "relayguard stopped in $(($(date +%s) - t0)) s"
tap_is "$(mta_log_grep "$RG_LOG" "$RG_MARK" 'notice: stop(ping|ped)$' | sed 's/.*notice: //' | tr '\n' ' ')" \
	"stopping stopped " "the log says stopping (master), then stopped (worker)"
tap_check "nothing listens on the milter port any more" \
	mta_dead_port "$RG_PORT"

# relayguard down means 4xx, never 5xx and never a silent accept: the
# client keeps the message and retries it once relayguard is back.
mta_smtp 127.0.0.8 --to down1@example.com
first=$(grep -v '^BANNER ' "$SMTP_REPLIES" | grep -v '^[A-Z]* 2' | grep -v '^QUIT ' | head -n 1)
tap_like "$first" '^(EHLO|MAIL|RCPT) 4[0-9][0-9] ' "relayguard down: Postfix answers 4xx (milter_default_action = tempfail)"
tap_is "$SMTP_QID" "" "relayguard down: nothing was queued"
mta_smtp 127.0.0.1 --to down2@else.test
tap_is "$SMTP_QID" "" "relayguard down: not even a trusted client's mail is queued"

mta_write "$conf" <<EOF
local_domains = example.com example.org
trusted_networks = 127.0.0.1/32 ::1/128
EOF
mta_rg_start "$conf" || tap_bail "relayguard did not start again (see $RG_LOG)"
mta_smtp 127.0.0.8 --to down1@example.com
delivered_to down1@example.com "relayguard back: the retried message is delivered"

# ---- what never happened ------------------------------------------------------------

tap_check "Postfix's queue is empty at the end" mta_wait_until 10 mta_postfix_queue_empty
for r in $refused; do
	if mta_sink_rcpt_seen "$r"; then
		tap_fail "nothing for refused recipient $r* reached the sink"
	else
		tap_ok "nothing for refused recipient $r* reached the sink"
	fi
done
# Every 5xx a client saw at RCPT came from relayguard and was logged once.
seen=$(cat "$RG_TMP"/smtp/*.replies | grep -c '^RCPT 5')
logged=$(grep -c ': rcpt: reject 5' "$RG_LOG")
tap_is "$logged" "$seen" "one relayguard log line for each of the $seen RCPT refusals clients saw"
n=$(head -n "$pf_mark" "$PF_LOG" | grep -ci 'warning:.*milter')
tap_is "$n" 0 "Postfix logged no milter warning while relayguard ran"
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
