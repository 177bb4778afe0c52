#!/bin/sh
# rules.sh - rule files end to end behind a real Postfix (TAP).
#
# What only a real MTA can show: a rule's refusal is what the client sees;
# PREPEND reaches the delivered message; DISCARD at RCPT accepts the
# recipient and the MTA drops it at end of message while the others get
# the message; TURF does the same after a copy is in turf_dir; QUARANTINE
# puts the message on Postfix's hold queue.  Then
# the reload under load: several clients send mail without pause while the
# rule files are replaced, broken and replaced again, with SIGHUP each
# time; every message the MTA accepted must reach the sink, each with the
# header of exactly one rule generation, a broken set must never be
# loaded, and relayguard must not die or complain.
. "${top_srcdir:-.}/test/lib/mta.sh"

started=$(date +%s)
mta_require_postfix
mta_init

rulesd=$RG_TMP/rules.d
mkdir "$rulesd"
chmod 755 "$rulesd"
turf=$RG_TMP/turf
mkdir "$turf"
chown "$RG_USER" "$turf"
conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/rules.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
rules = rules.d/*.rules
turf_dir = $turf
loop_max = 0
rdns = off
spf = off
EOF

# write_rules GEN: the rule set of generation GEN (A or B).
write_rules() {
	mta_write "$rulesd/10-test.rules" <<EOF
# generation $1
blocked: rcpt /^blocked-$1@/ REJECT 550 5.7.1 Blocked by rule set $1
trap: rcpt /^trap@/ DISCARD spam trap
aside: rcpt /^turfed@/ TURF kept aside
hold: header Subject /^hold me/ QUARANTINE held by rule set $1
mark: header Subject /^load / PREPEND X-RG-Rules: $1
tag: header Subject /^tag me/ PREPEND X-RG-Tag: tagged by %{client_addr}
EOF
}

write_rules A
mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
mta_postfix_start

# ---- what each action does to real mail ------------------------------------

mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.2 --to blocked-A@example.com,bob@example.com
tap_like "$(smtp_reply RCPT 1)" '^550 5\.7\.1 Blocked by rule set A$' "REJECT: the client sees the rule's reply"
tap_like "$(smtp_reply RCPT 2)" '^250 ' "... the other recipient is accepted"
tap_check "... the refusal is logged with the rule's id" \
	mta_wait_log "$RG_LOG" "$mark" "rcpt: reject 550 5\\.7\\.1 Blocked by rule set A; by=blocked .*to=<"
if mta_wait_delivered; then tap_ok "... the message is delivered"; else tap_fail "... the message is delivered"; fi

mta_smtp 127.0.0.2 --to trap@example.com,carol@example.com
tap_like "$(smtp_reply RCPT 1)" '^250 ' "DISCARD at RCPT: the client sees 250 for the trap"
if mta_wait_delivered && [ "$(mta_sink_rcpts "$SMTP_TOKEN")" = carol@example.com ]; then
	tap_ok "... the message reached carol@example.com only"
else
	tap_fail "... the message reached carol@example.com only"
	tap_diag "sink recipients: '$(mta_sink_rcpts "$SMTP_TOKEN" | tr '\n' ' ')'"
fi

mta_smtp 127.0.0.2 --to trap@example.com
tap_like "$(smtp_reply DOT)" '^250 ' "every recipient discarded: the client still sees 250"
sleep 1
if mta_sink_has "$SMTP_TOKEN"; then tap_fail "... and nothing reaches the sink"; else tap_ok "... and nothing reaches the sink"; fi

mta_smtp 127.0.0.2 --to turfed@example.com,frank@example.com
tap_like "$(smtp_reply RCPT 1)" '^250 ' "TURF at RCPT: the client sees 250"
if mta_wait_delivered && [ "$(mta_sink_rcpts "$SMTP_TOKEN")" = frank@example.com ]; then
	tap_ok "... the message reached frank@example.com only"
else
	tap_fail "... the message reached frank@example.com only"
fi
copy=$(grep -l "X-RG-Token: $SMTP_TOKEN" "$turf"/new/* 2>/dev/null | head -n 1)
tap_check "... a copy is in turf_dir/new" test -n "$copy"
tap_check "... naming the rule and the turfed recipient" \
	sh -c "grep -q '^X-Relayguard-Rule: aside\$' '$copy' && grep -q '^X-Relayguard-Recipient: <turfed@example.com> turfed' '$copy'"

mta_smtp 127.0.0.2 --to dave@example.com --header "Subject: tag me"
if mta_wait_delivered && grep -q '^X-RG-Tag: tagged by 127\.0\.0\.2' "$(mta_sink_file "$SMTP_TOKEN")"; then
	tap_ok "PREPEND: the delivered message carries the header, %{client_addr} expanded"
else
	tap_fail "PREPEND: the delivered message carries the header, %{client_addr} expanded"
fi

mta_smtp 127.0.0.2 --to erin@example.com --header "Subject: hold me"
held() { [ -n "$(find "$PF_QUEUE/hold" -type f 2>/dev/null | head -n 1)" ]; }
tap_check "QUARANTINE: Postfix puts the message on hold" mta_wait_until 10 held
tap_check "... Postfix logs the milter's hold" mta_wait_log "$PF_LOG" 0 "milter-hold: END-OF-MESSAGE .*to=<erin@example\.com>" 5
tap_check "... relayguard logs the rule and its reason" \
	mta_wait_log "$RG_LOG" 0 ": header: quarantine; by=hold .*reason=held by rule set A" 5
postsuper -c "$PF_ETC" -d ALL hold >/dev/null 2>&1

# ---- reload under load -----------------------------------------------------------

# load L N: client 127.0.0.(20+L) sends N messages, one dialogue each, no pause.
load() {
	_ld_i=1
	while [ "$_ld_i" -le "$2" ]; do
		swaks --server 127.0.0.1 --port "$MTA_PORT" --local-interface "127.0.0.$((20 + $1))" \
			--timeout 30 --helo client.test --from "load$1@stranger.test" \
			--to "load$1-$_ld_i@example.com" --header "Subject: load $1 $_ld_i" \
			--add-header "X-RG-Token: load-$1-$_ld_i" >"$RG_TMP/load/$1-$_ld_i.txt" 2>&1 </dev/null
		_ld_i=$((_ld_i + 1))
	done
}

mkdir "$RG_TMP/load"
loaders=4 per=15
pids=
l=1
while [ "$l" -le "$loaders" ]; do
	load "$l" "$per" &
	pids="$pids $!"
	l=$((l + 1))
done
sleep 1
reloads_ok=0 reloads_refused=0 other=0
for step in B broken A broken B A B; do
	if [ "$step" = broken ]; then
		mta_write "$rulesd/20-broken.rules" <<EOF
rcpt /(unclosed/ REJECT 550 5.7.1 never loaded
EOF
	else
		rm -f "$rulesd/20-broken.rules"
		write_rules "$step"
	fi
	mta_rg_reload
	case $? in
	0) reloads_ok=$((reloads_ok + 1)) ;;
	1) reloads_refused=$((reloads_refused + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
	sleep 0.4
done
for p in $pids; do wait "$p"; done
tap_is "$reloads_ok:$reloads_refused:$other" "5:2:0" "under load: 5 reloads done, 2 broken sets refused"
tap_check "a reload names the edited rule file as what changed" \
	mta_log_has "$RG_LOG" 0 ": reloaded .*changed: .*rules\.d/10-test\.rules"
tap_check "a refused set is named file:line: problem in the log" \
	mta_log_has "$RG_LOG" 0 "20-broken\\.rules:1: bad pattern /\\(unclosed/: missing closing parenthesis"

sent=$((loaders * per))
accepted=$(grep -l '^<- *250 .*queued as' "$RG_TMP"/load/*.txt 2>/dev/null | wc -l)
tap_is "$accepted" "$sent" "every one of the $sent messages sent during the reloads was accepted"
delivered_all() {
	for _da_f in "$RG_TMP"/load/*.txt; do
		_da_t=$(basename "$_da_f" .txt)
		mta_sink_has "load-$_da_t" || return 1
	done
}
if mta_wait_until 30 delivered_all; then
	tap_ok "every accepted message reached the sink: none was lost"
else
	tap_fail "every accepted message reached the sink: none was lost"
	for f in "$RG_TMP"/load/*.txt; do
		t=$(basename "$f" .txt)
		mta_sink_has "load-$t" || tap_diag "missing: load-$t"
	done
fi
bad=0 gens=
for f in "$SINK_DIR"/*; do
	grep -q '^X-RG-Token: load-' "$f" || continue
	n=$(grep -c '^X-RG-Rules: [AB]$' "$f")
	[ "$n" = 1 ] || bad=$((bad + 1))
	gens="$gens $(sed -n 's/^X-RG-Rules: //p' "$f" | head -n 1)"
done
tap_is "$bad" 0 "each delivered message carries the header of exactly one rule generation"
case $gens in
*A*) case $gens in *B*) tap_ok "both generations A and B marked messages during the run" ;;
	*) tap_fail "both generations A and B marked messages during the run" ;; esac ;;
*) tap_fail "both generations A and B marked messages during the run" ;;
esac

mta_smtp 127.0.0.2 --to blocked-B@example.com,blocked-A@example.com --quit-after RCPT
tap_like "$(smtp_reply RCPT 1)" '^550 5\.7\.1 Blocked by rule set B$' "after the run the last good set (B) is the one enforced"
tap_like "$(smtp_reply RCPT 2)" '^250 ' "... and set A's rule is gone"
tap_check "relayguard's worker is the one that started (it never died)" mta_alive "$RG_WORKER"
tap_check "Postfix's queue is empty at the end" mta_wait_until 10 mta_postfix_queue_empty
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean
mta_rg_stop
tap_is "$?:$RG_STATUS" "0:0" "relayguard stops cleanly"

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
