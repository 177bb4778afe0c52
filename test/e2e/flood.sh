#!/bin/sh
# flood.sh - relayguard's flood limits behind a real Postfix (TAP).
#
# The Postfix of test/lib/mta.sh relays everything to an smtp-sink, so
# relayguard alone stands between a client and the sink.  Each flood comes
# from its own loopback address, as a real one would come from one host:
#   127.0.0.2  connections faster than client_connection_rate: 421 at connect
#   127.0.0.3  more messages than client_message_rate: 450 4.7.1 at MAIL
#   127.0.0.4  bogus recipients (relayguard's 550 5.1.1): past
#              client_bad_recipients the client gets 421 4.7.0, and 421 at
#              every new connection for the penalty time
#   127.0.0.5  bogus recipients that Postfix refuses itself: relayguard
#              sees them (SMFIP_RCPT_REJ) and counts them just the same
#   127.0.0.6  more open connections than client_connections: 421 at connect
#   127.0.0.9  a second address, unaffected by all of it, at the end
# and each check looks at what the client was told, what reached the sink
# and what relayguard logged.
. "${top_srcdir:-.}/test/lib/mta.sh"

started=$(date +%s)
mta_require_postfix
mta_init

conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/flood.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
local_recipients = alice bob carol dave
client_connection_rate = 4/1m
client_message_rate = 3/1h
client_bad_recipients = 3/10m
client_bad_recipients_penalty = 10m
client_connections = 2
EOF

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
# Postfix refuses these recipients itself, before relayguard decides.
ghosts=
for i in 1 2 3 4; do
	ghosts="$ghosts${ghosts:+,}{pf-ghost$i@example.com=550 5.1.1 no such user here}"
done
mta_postfix_set "smtpd_recipient_restrictions=check_recipient_access inline:{$ghosts}" ||
	tap_bail "cannot set Postfix's recipient restrictions"
mta_postfix_start

# banner_is ERE NAME: the greeting of the last dialogue.
banner_is() {
	tap_like "$(smtp_reply BANNER)" "$1" "$2"
}

# refused_at_connect IP TEXT NAME: the last dialogue was refused at connect
# with 421.  Postfix greets with its own "421 <host> Service unavailable"
# text then, and logs relayguard's reply as a milter-reject.
refused_at_connect() {
	banner_is '^421 ' "$3: 421 at connect"
	tap_check "$3: Postfix logged relayguard's 421 4.7.0 $2" \
		mta_wait_until 5 grep -q "milter-reject: CONNECT from [^ ]*\\[$(mta_ere "$1")\\]: 421 4\\.7\\.0 $(mta_ere "$2")" "$PF_LOG"
}

# ---- a connection flood: client_connection_rate = 4/1m ---------------------

mark=$(mta_log_mark "$RG_LOG")
for i in 1 2 3 4; do
	mta_smtp 127.0.0.2 --quit-after EHLO
	banner_is '^220 ' "127.0.0.2: connection $i of 4 is greeted"
done
mta_smtp 127.0.0.2 --quit-after EHLO
refused_at_connect 127.0.0.2 "Too many connections from 127.0.0.2, slow down" "127.0.0.2: connection 5"
tap_check "127.0.0.2: the session ended there (no EHLO answered)" \
	test -z "$(smtp_reply EHLO)"
tap_is "$(mta_log_count "$RG_LOG" "$mark" 'connect: tempfail 421 4\.7\.0 .*by=limits detail=client_connection_rate 127\.0\.0\.2: 4 of 4 per 1m')" 1 \
	"127.0.0.2: one log line, by=limits, with the counter"

# ---- a message flood: client_message_rate = 3/1h ----------------------------

for i in 1 2 3; do
	mta_smtp 127.0.0.3 --to "alice@example.com"
	tap_check "127.0.0.3: message $i of 3 is delivered" mta_wait_delivered
done
mta_smtp 127.0.0.3 --to "alice@example.com"
tap_like "$(smtp_reply MAIL)" '^450 4\.7\.1 Too many messages from 127\.0\.0\.3, try again later$' \
	"127.0.0.3: message 4 gets 450 4.7.1 at MAIL"
tap_is "$SMTP_QID" "" "127.0.0.3: message 4 was not queued"

# ---- bogus recipients, refused by relayguard: client_bad_recipients = 3/10m -

mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.4 --to "ghost1@example.com,ghost2@example.com,ghost3@example.com,ghost4@example.com,alice@example.com"
for i in 1 2 3; do
	tap_like "$(smtp_reply RCPT $i)" '^550 5\.1\.1 ' "127.0.0.4: bogus recipient $i gets 550 5.1.1"
done
tap_like "$(smtp_reply RCPT 4)" '^421 4\.7\.0 Too many unknown recipients from 127\.0\.0\.4, try again later$' \
	"127.0.0.4: bogus recipient 4 gets 421 4.7.0"
tap_check "127.0.0.4: and the session ends there (no 5th RCPT answered)" \
	test -z "$(smtp_reply RCPT 5)"
tap_is "$SMTP_QID" "" "127.0.0.4: nothing was queued"
mta_smtp 127.0.0.4 --to "alice@example.com"
refused_at_connect 127.0.0.4 "Too many unknown recipients from 127.0.0.4" "127.0.0.4: penalty: a new connection"
tap_is "$(mta_log_count "$RG_LOG" "$mark" 'by=limits detail=client_bad_recipients 127\.0\.0\.4: penalty')" 1 \
	"127.0.0.4: the penalty refusal is logged with its reason"

# ---- bogus recipients refused by Postfix itself ---------------------------------

mta_smtp 127.0.0.5 --to "pf-ghost1@example.com,pf-ghost2@example.com,pf-ghost3@example.com,pf-ghost4@example.com,bob@example.com"
for i in 1 2 3 4; do
	tap_like "$(smtp_reply RCPT $i)" '^550 5\.1\.1 .*no such user here' \
		"127.0.0.5: Postfix refuses bogus recipient $i itself (550 5.1.1)"
done
tap_like "$(smtp_reply RCPT 5)" '^421 4\.7\.0 Too many unknown recipients from 127\.0\.0\.5' \
	"127.0.0.5: relayguard counted them: the next recipient gets 421 4.7.0"
tap_is "$SMTP_QID" "" "127.0.0.5: nothing was queued"
tap_is "$(grep -c 'rcpt: .*to=<pf-ghost' "$RG_LOG")" 0 \
	"127.0.0.5: relayguard only counted the recipients Postfix refused (no decision of its own)"

# ---- too many open connections: client_connections = 2 ----------------------

# Two clients that connect from 127.0.0.6, read the greeting and wait.
holders=
for i in 1 2; do
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0],
		    LocalAddr => "127.0.0.6", Proto => "tcp") or exit 1;
		my $banner = <$s>;
		print STDERR "holder: $banner";
		sleep 30;' "$MTA_PORT" 2>>"$RG_TMP/holders.log" &
	holders="$holders $!"
	mta_track $!
done
tap_check "127.0.0.6: two connections are open" \
	mta_wait_until 10 sh -c "[ \$(grep -c '^holder: 220 ' '$RG_TMP/holders.log') = 2 ]"
mta_smtp 127.0.0.6 --quit-after EHLO
refused_at_connect 127.0.0.6 "Too many connections from 127.0.0.6, try again later" "127.0.0.6: a third open connection"
for p in $holders; do
	mta_kill_wait "$p" 5
done
# Postfix tells relayguard when a connection closes (xxfi_close): the
# two held ones and the refused one.
tap_check "127.0.0.6: Postfix saw the three connections close" \
	mta_wait_until 10 sh -c "[ \$(grep -c 'disconnect from .*\\[127\\.0\\.0\\.6\\]' '$PF_LOG') -ge 3 ]"
mta_smtp 127.0.0.6 --to "carol@example.com"
tap_check "127.0.0.6: after they closed, a new connection is greeted and delivers" mta_wait_delivered

# ---- a second address, unaffected ----------------------------------------------------

mta_smtp 127.0.0.9 --to "dave@example.com"
banner_is '^220 ' "127.0.0.9: greeted"
tap_check "127.0.0.9: its message is delivered" mta_wait_delivered

# ---- what never happened ---------------------------------------------------------------

for r in ghost1@example.com pf-ghost1@example.com; do
	if mta_sink_rcpt_seen "$r"; then
		tap_fail "nothing for $r reached the sink"
	else
		tap_ok "nothing for $r reached the sink"
	fi
done
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
