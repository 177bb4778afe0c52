#!/bin/sh
# mta-bench.sh - what relayguard costs a real Postfix (make bench; a
# benchmark, not a test: it prints figures and fails only when a message
# is refused or lost, since a filter that refuses would look fast).
#
#   sh test/bench/mta-bench.sh [-m MESSAGES] [-s SESSIONS] [-r RCPTS]
#                              [-n ROUNDS] [-l BYTES] [-B] [-T]
#
# Defaults: 2000 messages, 20 parallel sessions, 1 recipient per message,
# 3 rounds, 1000 body bytes.  One throwaway Postfix on loopback relays
# everything to an smtp-sink; its smtpd listens on three ports, one per
# set-up, all with the same settings otherwise:
#
#   none   no milter
#   null   test/bench/nullmilter: every callback answers "continue" and it
#          does not negotiate, so libmilter's defaults apply (every stage
#          and its macros sent, a reply awaited for each): the cost of the
#          milter protocol itself
#   rg     relayguard with the sample configuration made strict: relay
#          control, rdns = fcrdns and spf = enforce against a test DNS
#          server on loopback (the cache is warmed before the first round),
#          sender domain and HELO checks, hop count, the sample rule files
#          plus generated rules to 100 PCRE rules (with -B, some of them on
#          the body), the memory store with flood limits
#
# Both milters listen on unix sockets, as a milter on the MTA's own host
# should; with -T on loopback TCP instead.  Over TCP, Postfix's cleanup
# writes the "no reply" header packets back to back and Nagle holds them
# for the milter's delayed ACK (relayguard therefore asks for no-reply
# headers only over unix sockets, and turns Nagle off on its own side).
#
# Postfix's smtp-source sends the messages from 127.0.0.1, which is NOT
# trusted here, so every check runs for every message.  Each recipient
# gets a number of its own (smtp-source -N): thousands of identical
# messages to one address is what relayguard's loop detector is for.  Each round runs the
# three set-ups one after the other (order rotated from round to round),
# waiting between runs until the queue is empty; the ratios are taken
# within a round (paired), and the median of the rounds is reported.
# Per run: messages accepted per second (smtp-source's wall time), seconds
# until the last message reached the sink, the milter's own CPU time per
# message (user+system of its process, from /proc), and the whole
# machine's CPU time per message (from /proc/stat: Postfix, the milter,
# the sink and smtp-source together).
#
# Run it from the build tree as root (Postfix needs it), with a build
# configured without --enable-sanitizers for figures worth quoting.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
export top_srcdir top_builddir

msgs=2000 sessions=20 rcpts=1 rounds=3 bytes=1000 bodyrules=no unix=yes
while getopts m:s:r:n:l:BT opt; do
	case $opt in
	m) msgs=$OPTARG ;;
	s) sessions=$OPTARG ;;
	r) rcpts=$OPTARG ;;
	n) rounds=$OPTARG ;;
	l) bytes=$OPTARG ;;
	B) bodyrules=yes ;;
	T) unix=no ;;
	*) sed -n '5,6p' "$0" >&2; exit 2 ;;
	esac
done

NULLMILTER=${NULLMILTER:-$top_builddir/test/bench/nullmilter}
. "$top_srcdir/test/lib/mta.sh"

die() {
	echo "mta-bench: $*" >&2
	exit 1
}

command -v smtp-source >/dev/null 2>&1 || die "smtp-source not found (Debian: apt-get install postfix)"
[ -x "$NULLMILTER" ] || die "$NULLMILTER not built (make test/bench/nullmilter)"
[ "$(id -u)" = 0 ] || die "run as root: the throwaway Postfix needs it"
mta_require_postfix >/dev/null
mta_init

# ---- DNS: the client's PTR, its forward confirmation, the sender's SPF ----
cat >"$RG_TMP/bench-zone.conf" <<'EOF'
server:
	local-zone: "." static
	local-zone: "127.in-addr.arpa." static
	local-data: "1.0.0.127.in-addr.arpa. 3600 IN PTR client.bench.test."
	local-zone: "bench.test." static
	local-data: "client.bench.test. 3600 IN A 127.0.0.1"
	local-data: "bench.test. 3600 IN MX 10 client.bench.test."
	local-data: 'bench.test. 3600 IN TXT "v=spf1 ip4:127.0.0.1 -all"'
EOF
mta_dns_start "$RG_TMP/bench-zone.conf"

# ---- relayguard's configuration: the sample, strict, with 100 rules ----
mkdir -p "$RG_TMP/rules.d"
cp "$top_srcdir"/contrib/rules/*.rules "$RG_TMP/rules.d/"
sample_rules=$(cat "$RG_TMP"/rules.d/*.rules | grep -c '^[^#[:space:]]')
# Generated rules of the kinds large sets are made of, none matching the
# bench's traffic, to 100 in all.
awk -v n=$((100 - sample_rules)) -v body=$bodyrules 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 10
		if (k < 3) printf "rcpt /^user%d@dept%d\\.example\\.com$/i REJECT 550 5.1.1 user%d left\n", i, i % 97, i
		else if (k < 5) printf "mail /@spam%d-sender\\.example\\.net$/i REJECT 550 5.7.1 Sender domain %d\n", i, i
		else if (k == 5) printf "helo /^bad-host%d\\.example\\.org$/i REJECT 550 5.7.1 HELO %d\n", i, i
		else if (k == 6) printf "connect name /^host%d\\.dialup\\.example\\.net$/i REJECT 550 5.7.1 dialup %d\n", i, i
		else if (k == 7 || body != "yes") printf "header Subject /cheap product%d now/i DISCARD subject %d\n", i, i
		else printf "body /www\\.spamsite%d\\.example\\//i REJECT 554 5.7.1 URL %d\n", i, i
	}
}' >"$RG_TMP/rules.d/90-generated.rules"
chmod -R go-w "$RG_TMP/rules.d"
chmod 755 "$RG_TMP/rules.d"
chmod 644 "$RG_TMP"/rules.d/*.rules
nrules=$(cat "$RG_TMP"/rules.d/*.rules | grep -c '^[^#[:space:]]')

conf=$RG_TMP/relayguard.conf
grep -v -e '^socket' -e '^user' -e '^trusted_networks' -e '^rdns' -e '^spf' \
	"$top_srcdir/contrib/relayguard.conf" >"$conf"
cat >>"$conf" <<EOF
# mta-bench.sh: 127.0.0.1, where the messages come from, is not trusted.
trusted_networks = ::1/128
rdns = fcrdns
spf = enforce
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $RG_TMP/libunbound.conf
rules = $RG_TMP/rules.d/*.rules
store = memory
# Flood limits far above the bench's rate: counted, never reached.
client_connections = 1000
client_message_rate = 1000000/1m
client_recipient_rate = 1000000/1m
max_recipients = 1000
EOF
chmod 644 "$conf"
"$RELAYGUARD" -n -c "$conf" >"$RG_TMP/check.out" 2>&1 || { cat "$RG_TMP/check.out"; die "the bench config is refused"; }

# ---- the sink, the milters, Postfix ----
SINK_PORT=$(mta_free_port) || die "no free port"
smtp-sink -u "$RG_USER" -h sink.bench.test "127.0.0.1:$SINK_PORT" 256 >"$RG_TMP/sink.log" 2>&1 &
mta_track $!
mta_wait_ready $! 5 mta_banner_has 127.0.0.1 "$SINK_PORT" sink.bench.test || die "smtp-sink did not start"

if [ "$unix" = yes ]; then
	mkdir -p "$RG_TMP/sock"
	chmod 1777 "$RG_TMP/sock"
	RG_LOG=$RG_TMP/relayguard.log
	"$RELAYGUARD" -f -c "$conf" -p "unix:$RG_TMP/sock/rg" -u "$RG_USER" </dev/null >>"$RG_LOG" 2>&1 &
	RG_PID=$!
	mta_track $RG_PID
	mta_wait_ready $RG_PID 15 mta_log_has "$RG_LOG" 0 " ready on unix:" || die "relayguard did not start"
	RG_WORKER=$(sed -n 's/.*relayguard\[\([0-9]*\)\]: .* ready on .*/\1/p' "$RG_LOG" | tail -n 1)
	chmod 666 "$RG_TMP/sock/rg"
	RG_MILTER=unix:$RG_TMP/sock/rg NULL_SOCKET=unix:$RG_TMP/sock/null NULL_MILTER=unix:$RG_TMP/sock/null
else
	mta_rg_start "$conf" || { cat "$RG_LOG"; die "relayguard did not start"; }
	NULL_PORT=$(mta_free_port) || die "no free port"
	RG_MILTER=inet:127.0.0.1:$RG_PORT NULL_SOCKET=inet:$NULL_PORT@127.0.0.1 NULL_MILTER=inet:127.0.0.1:$NULL_PORT
fi
"$NULLMILTER" "$NULL_SOCKET" >"$RG_TMP/nullmilter.log" 2>&1 &
NULL_PID=$!
mta_track $NULL_PID
mta_wait_ready $NULL_PID 5 mta_log_has "$RG_TMP/nullmilter.log" 0 "ready on" || die "nullmilter did not start"
[ "$unix" = no ] || chmod 666 "$RG_TMP/sock/null"

mta_postfix_init example.com
# Postfix must not slow its intake to its delivery (in_flow_delay) or
# run short of processes; everything else is the same for all set-ups.
# smtpd_milters empty: mta_postfix_init names relayguard when it listens on
# TCP, and the "none" port must have no milter (the others set their own).
mta_postfix_set "smtpd_milters =" "in_flow_delay = 0s" "default_process_limit = 200" \
	"smtp_destination_concurrency_limit = 20" "milter_default_action = tempfail" \
	"milter_command_timeout = 30s" "milter_content_timeout = 60s"
NONE_PORT=$PF_PORT
PORT_null=$(mta_free_port) || die "no free port"
PORT_rg=$(mta_free_port) || die "no free port"
PORT_none=$NONE_PORT
cat >>"$PF_ETC/master.cf" <<EOF
127.0.0.1:$PORT_null inet n - n - - smtpd -o smtpd_milters=$NULL_MILTER
127.0.0.1:$PORT_rg inet n - n - - smtpd -o smtpd_milters=$RG_MILTER
EOF
mta_postfix_settle
mta_postfix_start

# ---- measuring ----
now() { date +%s.%N; }
# CPU seconds (user+system) of process $1 and its threads.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}
# CPU seconds the whole machine spent busy (all but idle and iowait).
machine_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.3f\n", ($2 + $3 + $4 + $7 + $8) / hz }' /proc/stat
}
sent_count() { mta_log_since "$PF_LOG" "$1" | grep -c ' status=sent ' || true; }

# run SETUP ROUND: one batch through SETUP's port; appends a result line.
run() {
	_port=$(eval echo "\$PORT_$1")
	case $1 in
	none) _pid= ;;
	null) _pid=$NULL_PID ;;
	rg) _pid=$RG_WORKER ;;
	esac
	mta_wait_until 120 mta_postfix_queue_empty || die "the queue did not drain before a run"
	_mark=$(mta_log_mark "$PF_LOG")
	_c0=0
	[ -z "$_pid" ] || _c0=$(proc_cpu "$_pid")
	_m0=$(machine_cpu)
	_t0=$(now)
	${SMTP_SOURCE:-smtp-source} -N -s "$sessions" -m "$msgs" -r "$rcpts" -l "$bytes" -M client.bench.test \
		-f sender@bench.test -t user@example.com -S "bench round $2" \
		"127.0.0.1:$_port" >"$RG_TMP/source.out" 2>&1 ||
		{ cat "$RG_TMP/source.out"; mta_log_since "$PF_LOG" "$_mark" | grep -E 'reject|milter' | head;
		  die "smtp-source failed through $1: a message was refused"; }
	_t1=$(now)
	_want=$((msgs * rcpts))
	_i=0
	while [ "$(sent_count "$_mark")" -lt "$_want" ]; do
		_i=$((_i + 1))
		[ $_i -lt 6000 ] || die "$1: only $(sent_count "$_mark") of $_want deliveries in 600 s"
		sleep 0.1
	done
	_t2=$(now)
	_c1=0
	[ -z "$_pid" ] || _c1=$(proc_cpu "$_pid")
	_m1=$(machine_cpu)
	mta_log_since "$PF_LOG" "$_mark" | grep -qE 'milter-(reject|discard|hold)|status=(deferred|bounced)' &&
		die "$1: a message was refused, held or not delivered (see $PF_LOG)"
	echo "$2 $1 $_t0 $_t1 $_t2 $_c0 $_c1 $_m0 $_m1" >>"$RG_TMP/results"
}

echo "mta-bench: $msgs messages x $rcpts recipient(s), $bytes body bytes, $sessions sessions, $rounds rounds, milters on ${RG_MILTER%%:*} sockets"
echo "mta-bench: relayguard with $nrules rules (body rules: $bodyrules), $(sed -n 's/^\(rdns\|spf\) = /\1=/p' "$conf" | tr '\n' ' ')"
# Warm up: each set-up once with a few messages (DNS cache, Postfix processes).
saved=$msgs
msgs=$((sessions * 5))
for s in none null rg; do run "$s" 0; done
msgs=$saved
: >"$RG_TMP/results"
r=1
while [ "$r" -le "$rounds" ]; do
	case $((r % 3)) in
	1) order="none null rg" ;;
	2) order="null rg none" ;;
	0) order="rg none null" ;;
	esac
	for s in $order; do run "$s" "$r"; done
	r=$((r + 1))
done

# ---- report ----
awk -v msgs="$msgs" -v rounds="$rounds" '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	r = $1; s = $2
	rate[r, s] = msgs / ($4 - $3)
	drain[r, s] = $5 - $3
	cpu[r, s] = ($7 - $6) * 1e6 / msgs
	mcpu[r, s] = ($9 - $8) * 1e6 / msgs
	printf "round %d %-5s %8.0f msg/s accepted, all delivered after %6.2f s, milter CPU %6.0f us/msg, machine CPU %6.0f us/msg\n",
	    r, s, rate[r, s], drain[r, s], cpu[r, s], mcpu[r, s]
}
END {
	for (r = 1; r <= rounds; r++) {
		a[r] = rate[r, "rg"] / rate[r, "null"]
		b[r] = rate[r, "null"] / rate[r, "none"]
		c[r] = rate[r, "rg"] / rate[r, "none"]
		d[r] = cpu[r, "rg"] / cpu[r, "null"]
		e[r] = mcpu[r, "rg"] / mcpu[r, "null"]
		f[r] = drain[r, "rg"] / drain[r, "null"]
	}
	printf "\nmedian of %d paired rounds:\n", rounds
	printf "  throughput  null milter / no milter   %.3f\n", median(b, rounds)
	printf "  throughput  relayguard / no milter    %.3f\n", median(c, rounds)
	printf "  throughput  relayguard / null milter  %.3f   (target >= 1)\n", median(a, rounds)
	printf "  time to deliver all, relayguard / null %.3f\n", median(f, rounds)
	printf "  milter CPU per message, relayguard / null milter   %.3f   (target < 1)\n", median(d, rounds)
	printf "  machine CPU per message, relayguard / null milter  %.3f\n", median(e, rounds)
}' "$RG_TMP/results"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$RG_WORKER/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$RG_WORKER/status")
echo "  relayguard worker: RSS $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB"
