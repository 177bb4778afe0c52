#!/bin/sh
# sessions-memory.sh - resident memory of relayguard's worker with many
# concurrent SMTP sessions (default 1,000).  A benchmark, not a test: it
# prints figures and never fails on them.  Run it as root from the build
# tree:
#
#   top_srcdir=SRC top_builddir=. sh SRC/test/bench/sessions-memory.sh [SESSIONS]
#
# relayguard runs with the sample config (contrib/relayguard.conf: rdns,
# HELO, sender-domain and SPF checks, annotate mode) adapted to loopback:
# the test DNS server (test/lib/dns.sh, test/dns/zones.conf), only
# 127.0.0.1 trusted, a Prometheus endpoint for the live session count.  A
# throwaway Postfix (test/lib/mta.sh) with process and per-client limits
# raised is its MTA.  test/bench/hold-sessions.py opens the sessions from
# 127.0.0.10-127.0.0.209; each does EHLO, MAIL FROM and RCPT TO a local
# recipient, and stays open.  Once relayguard counts them all, the
# worker's VmRSS, VmHWM, threads and thread stacks (resident and mapped)
# are read and compared with the same worker idle before (after one
# warm-up session) and after the sessions closed.  A libmilter built
# with one thread per milter connection adds a stack per session; one
# built with a worker pool (_FFR_WORKERS_POOL: Debian's) keeps a fixed
# set of threads; the thread count shows which.  The target is under
# 64 MiB of RSS besides the threads' stacks.  RSS after the close is
# what malloc keeps for reuse, not necessarily a leak.
. "${top_srcdir:-.}/test/lib/mta.sh"
. "${top_srcdir:-.}/test/lib/dns.sh"

sessions=${1:-1000}
helper=${top_srcdir:-.}/test/bench/hold-sessions.py
target_kib=$((64 * 1024))

mta_require_postfix
# Descriptors (ulimit -n: not POSIX, but every sh here has it): the helper holds one per session, Postfix's master a few per smtpd.
want_fds=$((sessions * 4 + 1024))
# shellcheck disable=SC3045
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want_fds" ] || ulimit -n "$want_fds" ||
	tap_skip_all "cannot raise the descriptor limit to $want_fds"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 is not installed"
mta_init

mta_dns_start "${top_srcdir:-.}/test/dns/zones.conf"

# The sample config without the keys set here (a key set twice is an error).
mport=$(mta_free_port) || tap_bail "no free port"
conf=$RG_TMP/relayguard.conf
{
	echo "# contrib/relayguard.conf adapted by test/bench/sessions-memory.sh"
	grep -Ev '^[[:space:]]*(socket|user|trusted_networks|dns_resolvers|dns_config|metrics_listen)[[:space:]]*=' \
		"${top_srcdir:-.}/contrib/relayguard.conf"
	cat <<EOF
trusted_networks = 127.0.0.1/32 ::1/128
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $RG_TMP/libunbound.conf
metrics_listen = 127.0.0.1:$mport
EOF
} | mta_write "$conf"

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
# One smtpd per session, all from a few clients: no process or per-client cap in the way.
mta_postfix_set "default_process_limit = $((sessions + 100))" \
	"smtpd_client_connection_count_limit = 0" "smtpd_client_connection_rate_limit = 0" \
	"milter_connect_timeout = 30s" "milter_command_timeout = 30s"
mta_postfix_start

# ---- helpers of this bench --------------------------------------------------

# live_sessions: relayguard's open session count (its relayguard_sessions gauge).
live_sessions() {
	python3 "$helper" gauge "http://127.0.0.1:$mport/metrics" relayguard_sessions
}

# sessions_are N: relayguard counts N open sessions.
sessions_are() {
	[ "$(live_sessions)" = "$1" ]
}

# measure LABEL SESSIONS: append the worker's memory to $figures:
# "LABEL SESSIONS rss hwm threads stacks stack_rss stack_mapped" (KiB).
figures=$RG_TMP/figures
measure() {
	_me_line=$(python3 "$helper" mem "$RG_WORKER") || tap_bail "cannot read the memory of $RG_WORKER"
	echo "$1 $2 $_me_line" >>"$figures"
}

# ---- idle, after one warm-up session ---------------------------------------------

# The first session initialises what is made on first use (libunbound,
# per-thread match data); the idle figure is taken after it.
mta_smtp 127.0.0.10 --from sender@e2e-pass.test --to bob@example.com --quit-after RCPT ||
	tap_bail "no SMTP dialogue with Postfix (see $SMTP_OUT)"
echo "# warm-up RCPT: $(smtp_reply RCPT)"
mta_wait_until 30 sessions_are 0 || tap_bail "relayguard still counts $(live_sessions) sessions"
measure idle 0

# ---- SESSIONS concurrent sessions --------------------------------------------------

held=$RG_TMP/held.out
start=$(date +%s)
python3 "$helper" hold "$MTA_PORT" "$sessions" 127.0.0.10-127.0.0.209 client.test \
	sender@e2e-pass.test bob@example.com >"$held" 2>&1 &
hold_pid=$!
mta_track "$hold_pid"
mta_wait_ready "$hold_pid" 600 grep -q '^held ' "$held" || tap_bail "the sessions did not open: $(cat "$held")"
opened=$(($(date +%s) - start))
echo "# $(head -n 1 "$held") (${opened} s)"
got=$(sed -n 's/^held \([0-9]*\) .*/\1/p' "$held")
mta_wait_until 60 sessions_are "$got" || echo "# relayguard counts $(live_sessions) sessions, not $got"
live=$(live_sessions)
measure busy "$live"

# ---- all closed ----------------------------------------------------------------------

kill -TERM "$hold_pid"
mta_wait_until 120 mta_dead "$hold_pid" || echo "# the helper did not stop"
wait "$hold_pid" 2>/dev/null
mta_untrack "$hold_pid"
echo "# $(tail -n 1 "$held")"
mta_wait_until 120 sessions_are 0 || echo "# relayguard still counts $(live_sessions) sessions"
measure after "$(live_sessions)"

# ---- figures -------------------------------------------------------------------------

echo "# relayguard worker $RG_WORKER; KiB from /proc/PID/status and smaps"
awk -v target="$target_kib" '
function mib(k) { return sprintf("%.1f MiB", k / 1024) }
{
	rss[$1] = $3; stack[$1] = $7; n[$1] = $2
	printf "%-6s sessions=%-5s RSS=%-10s HWM=%-10s threads=%-4s stacks: %s found, %s resident, %s mapped; RSS-stacks=%s\n",
	    $1, $2, mib($3), mib($4), $5, $6, mib($7), mib($8), mib($3 - $7)
}
END {
	if (n["busy"] > 0)
		printf "per session: %.1f KiB of RSS, of which %.1f KiB thread stack and %.1f KiB besides\n",
		    (rss["busy"] - rss["idle"]) / n["busy"], (stack["busy"] - stack["idle"]) / n["busy"],
		    (rss["busy"] - stack["busy"] - rss["idle"] + stack["idle"]) / n["busy"]
	besides = rss["busy"] - stack["busy"]
	printf "RSS besides thread stacks with %d sessions: %s (target < 64 MiB: %s); with stacks: %s\n",
	    n["busy"], mib(besides), besides < target ? "met" : "NOT met", mib(rss["busy"])
}' "$figures"

mta_postfix_stop
mta_rg_stop || echo "# relayguard did not stop cleanly"
