#!/bin/sh
# kill.sh - relayguard killed in the middle of traffic, behind a real
# Postfix (TAP; the harness is test/lib/mta.sh, the traffic test/lib/load.sh).
#
# Three clients (127.0.0.2-4) send mail to a local recipient without pause
# while
#   1. the worker is killed with SIGKILL: the master restarts it (log:
#      "worker N ended (killed by signal 9)", "worker M restarted"), and
#      Postfix meanwhile answers with its milter_default_action (tempfail);
#   2. the master and the worker are killed together with SIGKILL: nobody
#      restarts anything, every new message gets a 4xx until relayguard is
#      started again; then traffic resumes.
# In each phase a session held open after RCPT is released once relayguard
# is gone: its DATA or its dot must get a 4xx, and nothing is queued.
# At the end, as an MTA would, every tempfailed message is sent again, and
# every message a client saw accepted must be at the sink exactly once,
# every tempfailed one too (after its resend), and Postfix's queue empty.
. "${top_srcdir:-.}/test/lib/mta.sh"
. "${top_srcdir:-.}/test/lib/load.sh"

started=$(date +%s)
mta_require_postfix
mta_init

conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/kill.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32 ::1/128
EOF

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
mta_postfix_start
mkdir "$RG_TMP/out"

# ---- helpers of this test ----------------------------------------------------

# sender NAME SOURCE: send to bob@example.com until $RG_TMP/stop exists;
# one result line per message in $RG_TMP/res.NAME (written whole, so that
# a reader never sees half a line).
sender() {
	_se_i=0
	while [ ! -e "$RG_TMP/stop" ]; do
		_se_i=$((_se_i + 1))
		load_send "$RG_TMP/out" "$2" "kill-$1-$_se_i" --to bob@example.com >"$RG_TMP/last.$1"
		cat "$RG_TMP/last.$1" >>"$RG_TMP/res.$1"
		# An MTA would not retry at once either.
		grep -q ' accepted ' "$RG_TMP/last.$1" || sleep 0.3
	done
}

# results: every result line so far.
results() {
	cat "$RG_TMP"/res.* 2>/dev/null
}

# count STATUS: how many results have STATUS.
count() {
	results | awk -v s="$1" '$2 == s' | wc -l | tr -d ' '
}

# accepted_at_least N, tempfailed_at_least N: so many results so far.
accepted_at_least() {
	[ "$(count accepted)" -ge "$1" ]
}
tempfailed_at_least() {
	[ "$(count tempfail)" -ge "$1" ]
}

# both_dead: relayguard's master and worker are gone.
both_dead() {
	mta_dead "$RG_PID" && mta_dead "$RG_WORKER"
}

# held_start NAME: a session held open after RCPT (load_held).
held_start() {
	rm -f "$RG_TMP/go.$1"
	load_held 127.0.0.5 "$RG_TMP/go.$1" "$RG_TMP/held.$1" "kill-held-$1" bob@example.com &
	mta_track $!
	eval "held_pid_$1=\$!"
	mta_wait_until 10 grep -q '^RCPT ' "$RG_TMP/held.$1"
}

# held_finish NAME: release it; wait for its end.
held_finish() {
	touch "$RG_TMP/go.$1"
	mta_wait_until 30 grep -q '^END' "$RG_TMP/held.$1"
	eval "mta_kill_wait \$held_pid_$1 1"
}

# held_reply NAME CMD: its reply to CMD.
held_reply() {
	sed -n "s/^$2 //p" "$RG_TMP/held.$1" | head -n 1
}

# restarted_worker MARK: the pid of the last worker restarted since MARK.
restarted_worker() {
	mta_log_grep "$RG_LOG" "$1" 'worker [0-9]+ restarted' | tail -n 1 |
		sed 's/.*worker \([0-9]*\) restarted.*/\1/'
}

# ---- traffic -----------------------------------------------------------------

for n in 2 3 4; do
	sender "c$n" "127.0.0.$n" &
	mta_track $!
	eval "sender_pid_$n=\$!"
done
tap_check "traffic flows: 6 messages accepted before anything is killed" \
	mta_wait_until 20 accepted_at_least 6

# ---- 1. SIGKILL to the worker --------------------------------------------------

held_start w
tap_like "$(held_reply w RCPT)" '^250 ' "held session: RCPT accepted before the worker dies"
mark=$(mta_log_mark "$RG_LOG")
before=$(count accepted)
old_worker=$RG_WORKER
kill -KILL "$RG_WORKER"
tap_check "the worker is gone" mta_wait_until 5 mta_dead "$old_worker"
held_finish w
tap_diag "held session, worker killed: $(grep -v '^END' "$RG_TMP/held.w" | tr '\n' '|')"
tap_like "$(held_reply w DATA) $(held_reply w DOT)" '^(4[0-9][0-9] .*|354 .* 4[0-9][0-9] .*)$' \
	"held session: DATA or the dot gets a 4xx from Postfix (milter_default_action = tempfail)"
tap_check "the master logs the worker's death by SIGKILL" \
	mta_wait_log "$RG_LOG" "$mark" "worker $old_worker ended \\(killed by signal 9\\); restarting in [0-9]+ s" 5
tap_check "the master restarts the worker" mta_wait_log "$RG_LOG" "$mark" 'worker [0-9]+ restarted' 15
RG_WORKER=$(restarted_worker "$mark")
tap_check "the new worker runs (pid $RG_WORKER)" mta_alive "$RG_WORKER"
tap_check "the master itself kept running" mta_alive "$RG_PID"
tap_check "traffic resumes: 6 more messages accepted after the restart" \
	mta_wait_until 20 accepted_at_least $((before + 6))

# ---- 2. SIGKILL to the master and the worker together ----------------------------

held_start mw
tap_like "$(held_reply mw RCPT)" '^250 ' "held session: RCPT accepted before relayguard dies"
mark=$(mta_log_mark "$RG_LOG")
kill -KILL "$RG_PID" "$RG_WORKER"
tap_check "master and worker are gone" mta_wait_until 5 both_dead
wait "$RG_PID" 2>/dev/null
mta_untrack "$RG_PID"
held_finish mw
tap_diag "held session, master and worker killed: $(grep -v '^END' "$RG_TMP/held.mw" | tr '\n' '|')"
tap_like "$(held_reply mw DATA) $(held_reply mw DOT)" '^(4[0-9][0-9] .*|354 .* 4[0-9][0-9] .*)$' \
	"held session: DATA or the dot gets a 4xx from Postfix"
# Nobody restarts relayguard now: new messages are tempfailed, none queued.
sleep 2
t_before=$(count tempfail)
tap_check "while relayguard is down, clients get 4xx (3 more tempfails)" \
	mta_wait_until 20 tempfailed_at_least $((t_before + 3))
tap_is "$(mta_log_count "$RG_LOG" "$mark" 'restarted|ready on')" 0 "nothing restarted relayguard by itself"
before=$(count accepted)
mta_rg_start "$conf" || tap_bail "relayguard did not start again (see $RG_LOG)"
tap_ok "relayguard started again on the same port"
tap_check "traffic resumes: 6 more messages accepted" mta_wait_until 20 accepted_at_least $((before + 6))

# ---- the end: stop the clients, resend what was tempfailed -------------------------

touch "$RG_TMP/stop"
# Each finishes the message it is sending.
for n in 2 3 4; do
	eval "_pid=\$sender_pid_$n"
	mta_wait_until 70 mta_dead "$_pid"
	wait "$_pid"
	mta_untrack "$_pid"
done
tap_is "$(count unknown)$(count noconn)$(count reject)" "000" \
	"no client was left not knowing, unconnected or refused (every answer was 250 or 4xx)"
tempfailed=$(results | awk '$2 == "tempfail" { print $1 }')
ntemp=$(printf '%s\n' $tempfailed | grep -c .)
: >"$RG_TMP/resent"
for tok in $tempfailed; do
	load_send "$RG_TMP/out" 127.0.0.6 "$tok" --to bob@example.com >>"$RG_TMP/resent"
done
tap_is "$(awk '$2 != "accepted"' "$RG_TMP/resent" | wc -l | tr -d ' ')" 0 \
	"all $ntemp tempfailed messages are accepted when sent again"
tap_check "Postfix's queue empties" mta_wait_until 30 mta_postfix_queue_empty
want=$( {
	results | awk '$2 == "accepted" { print $1 }'
	awk '$2 == "accepted" { print $1 }' "$RG_TMP/resent"
} | sort)
got=$(load_sink_tokens | grep -v '^kill-held-' | sort)
nwant=$(printf '%s\n' $want | grep -c .)
tap_is "$(printf '%s\n' "$got" | uniq -d | head -n 3)" "" "no message reached the sink twice"
missing=$(printf '%s\n' $want | comm -23 - "$(printf '%s\n' "$got" >"$RG_TMP/got"; echo "$RG_TMP/got")" | head -n 5)
tap_is "$missing" "" "every one of the $nwant accepted messages is at the sink"
extra=$(printf '%s\n' "$got" | comm -13 "$(printf '%s\n' $want >"$RG_TMP/want"; echo "$RG_TMP/want")" - | head -n 5)
tap_is "$extra" "" "the sink has nothing the clients were not told was accepted"
tap_is "$(load_sink_tokens | grep -c '^kill-held-')" 0 "neither held session's message reached the sink"
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean
tap_diag "messages: $(count accepted) accepted, $ntemp tempfailed and resent, in $(($(date +%s) - started)) s"
tap_done
