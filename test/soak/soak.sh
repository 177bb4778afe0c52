#!/bin/sh
# soak.sh - relayguard under sustained mixed traffic and faults, behind a
# real Postfix on loopback (TAP, then a summary).
#
#   sh test/soak/soak.sh [-h] [-t SECONDS] [-c CLIENTS] [-r RELOAD] [-d DNS-PERIOD]
#       [-D DNS-DOWN] [-e REDIS-PERIOD] [-E REDIS-DOWN] [-f FLOOD-PERIOD]
#       [-F FLOOD-SIZE] [-s SAMPLE] [-w WARMUP] [-g GROWTH-KIB] [-G GROWTH-PCT]
#       [-S redis|memory]
#
#   -t  how long the traffic runs (120 s)
#   -c  parallel SMTP clients (4), each from its own loopback addresses
#   -r  reload the configuration (SIGHUP, alternating two files) every R s (5)
#   -d/-D  stop the test DNS server every d s for D s (20/4)
#   -e/-E  stop Redis (the counter store) every e s for E s (30/3)
#   -f/-F  a message flood of F messages from one address every f s (15/30)
#   -s  sample the worker's resident memory every s s (5)
#   -w  warm-up before the memory samples count (a fifth of -t, at least
#       30 s, at most half of -t)
#   -S  the counter store: redis (default) or memory (relayguard's own,
#       no Redis outages then).  The memory store keeps expired entries
#       until it is full (store_max_entries) and then evicts; its table
#       is touched page by page as it fills.  So that the samples after the
#       warm-up show the steady state, -S memory sets store_max_entries =
#       1000, which the traffic fills within the warm-up.
#   -g/-G  fail if memory grows by more than g KiB and G % (2048/10): the
#       bound is the larger of the two.  Growth = the median of the last
#       third of the samples minus the median of the first third.  Not
#       measured with an ASan build (its quarantine keeps freed memory) or
#       under RG_WRAPPER (valgrind): the figures would not be relayguard's
#
# CI runs it for 100 s (contrib/bootstrap.sh test: about 2 minutes in all);
# by hand with, e.g., -t 1200.  Run as root from the top of a build tree
# (top_srcdir, top_builddir, RELAYGUARD and RG_WRAPPER as for the
# end-to-end tests, test/lib/mta.sh); RG_KEEP_TMP=yes keeps the logs,
# SOAK_SUMMARY=FILE keeps a copy of the summary.
#
# The set-up: Postfix (test/lib/mta.sh) relays everything to an smtp-sink;
# relayguard is its milter with rdns = fcrdns and sender_domain_check
# against the test DNS server (test/lib/dns.sh; short TTLs, so an outage
# is felt), the counter store in Redis (test/lib/redis.sh) with
# store_failure = tempfail, rate limits, turf_senders and a turf directory.
# The clients send, in a fixed rotation:
#   good     an untrusted client to local recipients
#   trusted  127.0.0.1 relaying to another domain
#   relay    an untrusted client relaying, plus a local recipient
#   hostile  encapsulated recipient addresses (percent hack, bang path,
#            quoted local part, source route, nested @), plus a local one
#   huge     a 90 KiB header and 500 more
#   hops     51 Received: headers (max_hops = 50)
#   turf     a sender listed in turf_senders: accepted, kept in turf_dir
# and a flooder sends bursts from 127.0.0.50-53 past client_message_rate.
#
# Each message is named by a token (header X-RG-Token and the Subject).
# The checks: no client was left without an answer; what each kind may be
# told (good mail: 250 or a 4xx, never a 5xx; relay and hostile recipients
# never 250; hops never accepted); every message a client saw accepted is at
# the sink for exactly the recipients that got 250, or in the turf
# directory; the sink and the turf directory hold nothing else; every
# message Postfix queued was delivered, every one relayguard discarded is
# in the turf directory (by queue id); the faults were felt (451 4.7.25 or
# 4.1.8 while DNS was down, 451 4.3.0 while Redis was); every reload
# worked; the worker never died (the master never restarted it); and its
# resident memory (VmRSS) after the warm-up did not grow past the bound.
. "${top_srcdir:-.}/test/lib/mta.sh"
. "${top_srcdir:-.}/test/lib/load.sh"
. "${top_srcdir:-.}/test/lib/dns.sh"
# Lists are compared with comm and diff: one collation everywhere.
LC_ALL=C
export LC_ALL

duration=120 clients=4 reload_every=5 dns_every=20 dns_down=4 redis_every=30 redis_down=3
flood_every=15 flood_size=30 sample_every=5 warmup="" growth_kib=2048 growth_pct=10 store=redis
usage() {
	sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"
}
while getopts ht:c:r:d:D:e:E:f:F:s:w:g:G:S: opt; do
	case $opt in
	t) duration=$OPTARG ;;
	c) clients=$OPTARG ;;
	r) reload_every=$OPTARG ;;
	d) dns_every=$OPTARG ;;
	D) dns_down=$OPTARG ;;
	e) redis_every=$OPTARG ;;
	E) redis_down=$OPTARG ;;
	f) flood_every=$OPTARG ;;
	F) flood_size=$OPTARG ;;
	s) sample_every=$OPTARG ;;
	w) warmup=$OPTARG ;;
	g) growth_kib=$OPTARG ;;
	G) growth_pct=$OPTARG ;;
	S) store=$OPTARG ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 64
		;;
	esac
done
if [ -z "$warmup" ]; then
	warmup=$((duration / 5))
	[ "$warmup" -ge 30 ] || warmup=30
	[ "$warmup" -le $((duration / 2)) ] || warmup=$((duration / 2))
fi
case $store in
redis | memory) ;;
*)
	usage >&2
	exit 64
	;;
esac

started=$(date +%s)
mta_require_postfix
if [ "$store" = redis ]; then
	command -v redis-server >/dev/null 2>&1 || tap_skip_all "redis-server is not installed"
	command -v redis-cli >/dev/null 2>&1 || tap_skip_all "redis-cli is not installed"
fi
mta_init
WORK=$RG_TMP/redis
mkdir "$WORK"
. "${top_srcdir:-.}/test/lib/redis.sh"
printf 'store = redis://127.0.0.1:6379/0\n' >"$RG_TMP/probe.conf"
[ "$store" = memory ] || "$RELAYGUARD" -n -c "$RG_TMP/probe.conf" >/dev/null 2>&1 ||
	tap_skip_all "relayguard was built without hiredis (store = redis://)"

# ---- the test DNS server: every client address has a confirmed name ----------

# TTL 1: libunbound's cache must not hide an outage for long.
{
	printf 'server:\n\tlocal-zone: "." static\n'
	printf '\tlocal-zone: "0.0.127.in-addr.arpa." static\n\tlocal-zone: "soak.test." static\n'
	i=1
	while [ "$i" -le 60 ]; do
		printf '\tlocal-data: "%d.0.0.127.in-addr.arpa. 1 IN PTR h%d.soak.test."\n' "$i" "$i"
		printf '\tlocal-data: "h%d.soak.test. 1 IN A 127.0.0.%d"\n' "$i" "$i"
		i=$((i + 1))
	done
	printf '\tlocal-zone: "stranger.test." static\n'
	printf '\tlocal-data: "stranger.test. 1 IN MX 10 mx.stranger.test."\n'
	printf '\tlocal-data: "mx.stranger.test. 1 IN A 192.0.2.1"\n'
	printf "\\tlocal-data: 'stranger.test. 1 IN TXT \"v=spf1 ip4:127.0.0.0/8 -all\"'\\n"
} >"$RG_TMP/zones.conf"
mta_dns_start "$RG_TMP/zones.conf"

# dns_break / dns_restore: stop the server; start it again on its port.
dns_break() {
	kill "$DNS_PID" 2>/dev/null
	wait "$DNS_PID" 2>/dev/null
	mta_untrack "$DNS_PID"
	DNS_PID=
}
dns_restore() {
	_dr_n=$(grep -c 'start of service' "$DNS_DIR/unbound.log")
	for _dr_try in 1 2 3 4 5 6 7 8 9 10; do
		"$(dns_unbound)" -d -c "$DNS_DIR/unbound.conf" 2>>"$DNS_DIR/unbound.log" &
		DNS_PID=$!
		mta_track "$DNS_PID"
		mta_wait_ready "$DNS_PID" 5 sh -c "[ \$(grep -c 'start of service' '$DNS_DIR/unbound.log') -gt $_dr_n ]" &&
			return 0
		mta_kill_wait "$DNS_PID"
		sleep 0.5
	done
	tap_bail "the test DNS server did not start again on port $DNS_PORT"
}

# ---- Redis -------------------------------------------------------------------------

if [ "$store" = redis ]; then
	rg_redis_start
	mta_track "$REDIS_PID"
	store_url=redis://127.0.0.1:$REDIS_PORT/0
else
	store_url="memory
store_max_entries = 1000"
	redis_every=0
fi
redis_break() {
	mta_untrack "$REDIS_PID"
	rg_redis_stop
}
redis_restore() {
	rg_redis_restart
	mta_track "$REDIS_PID"
}

# ---- relayguard's configuration, in two versions for the reloads -------------------

turf=$RG_TMP/turf
mkdir "$turf"
chown "$RG_USER" "$turf"
chmod 700 "$turf"
conf=$RG_TMP/relayguard.conf
# write_conf N: version N (0 or 1); they differ in what no message here
# depends on (an extra local domain, a reply text, a DNS timeout).
write_conf() {
	if [ "$1" = 0 ]; then
		_wc_domains="example.com example.net" _wc_text="Relaying denied" _wc_timeout=1s
	else
		_wc_domains="example.com example.net example.org" _wc_text="Relaying denied here" _wc_timeout=2s
	fi
	mta_write "$conf.new" <<EOF
# relayguard.conf of test/soak/soak.sh, version $1
local_domains = $_wc_domains
trusted_networks = 127.0.0.1/32 ::1/128
relay_reply = 550 5.7.1 $_wc_text
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $RG_TMP/libunbound.conf
dns_timeout = $_wc_timeout
rdns = fcrdns
sender_domain_check = yes
spf = annotate
authserv_id = mx.example.com
store = $store_url
store_timeout = 300ms
store_failure = tempfail
client_message_rate = 20/1m
client_message_rate_exempt = 127.0.0.0/27 127.0.0.32/28
turf_dir = $turf
turf_senders = turfme@stranger.test
# Short, so that loop entries expire during the run.
loop_window = 30s
EOF
	mv "$conf.new" "$conf"
}
write_conf 0

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
worker0=$RG_WORKER
mta_postfix_init example.com example.net example.org
# Postfix would refuse 51 Received: headers itself: leave hops to relayguard.
mta_postfix_set "hopcount_limit = 1000"
mta_postfix_start
mkdir "$RG_TMP/out"

# ---- the messages ------------------------------------------------------------------

# message FILE [HEADER-LINES-FILE]: a message with %NEW_HEADERS% (where swaks
# puts X-RG-Token), the given header lines first.
message() {
	{
		[ -z "${2:-}" ] || cat "$2"
		echo "Date: Thu, 01 Jan 2026 00:00:00 +0000"
		echo "From: Someone <someone@stranger.test>"
		echo "To: Bob <bob@example.com>"
		echo "Subject: soak"
		echo "%NEW_HEADERS%"
		echo ""
		echo "A line of the body."
	} >"$1"
}
i=0
while [ "$i" -lt 51 ]; do
	printf 'Received: from h%d.stranger.test by h%d.stranger.test; Thu, 1 Jan 2026 00:00:00 +0000\n' \
		"$i" "$((i + 1))"
	i=$((i + 1))
done >"$RG_TMP/hops.hdr"
message "$RG_TMP/hops.msg" "$RG_TMP/hops.hdr"
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
} >"$RG_TMP/huge.hdr"
message "$RG_TMP/huge.msg" "$RG_TMP/huge.hdr"

KINDS="good trusted good relay good hostile good huge good turf good hops good relay good hostile good trusted good turf"

# send_kind KIND TOKEN SOURCE: one message of KIND; prints its result line
# with the kind in front.  Refused recipients carry a marker (rl-, hx-) so
# that the sink can be searched for them.
send_kind() {
	_sk_t=$2
	case $1 in
	good) set -- good "$3" --to "g1-$_sk_t@example.com,g2-$_sk_t@example.net" ;;
	trusted) set -- trusted 127.0.0.1 --to "tr-$_sk_t@else.test" ;;
	relay) set -- relay "$3" --to "rl-$_sk_t@else.test,ok-$_sk_t@example.com" ;;
	hostile)
		case $(($(printf '%s' "$_sk_t" | cksum | cut -d' ' -f1) % 5)) in
		0) _sk_h="hx-$_sk_t%else.test@example.com" ;;
		1) _sk_h="else.test!hx-$_sk_t@example.com" ;;
		2) _sk_h="\"hx-$_sk_t@else.test\"@example.com" ;;
		3) _sk_h="@example.com:hx-$_sk_t@else.test" ;;
		*) _sk_h="hx-$_sk_t@else.test@example.com" ;;
		esac
		set -- hostile "$3" --to "$_sk_h,ok-$_sk_t@example.com"
		;;
	huge) set -- huge "$3" --to "hg-$_sk_t@example.com" --data "$RG_TMP/huge.msg" ;;
	hops) set -- hops "$3" --to "hp-$_sk_t@example.com" --data "$RG_TMP/hops.msg" ;;
	turf) set -- turf "$3" --from turfme@stranger.test --to "tf-$_sk_t@example.com" ;;
	flood) set -- flood "$3" --from flood@stranger.test --to "fl-$_sk_t@example.com" ;;
	esac
	_sk_kind=$1 _sk_src=$2
	shift 2
	printf '%s %s ' "$_sk_kind" "$_sk_src"
	load_send "$RG_TMP/out" "$_sk_src" "$_sk_t" "$@"
}

# client N: the rotation of KINDS until $RG_TMP/stop exists, from
# 127.0.0.10-47 (five addresses per client, exempt from
# client_message_rate); results in $RG_TMP/res.cN.
client() {
	_cl_i=0
	while [ ! -e "$RG_TMP/stop" ]; do
		for _cl_k in $KINDS; do
			[ ! -e "$RG_TMP/stop" ] || break
			_cl_i=$((_cl_i + 1))
			_cl_src=127.0.0.$((10 + ($1 * 5 + _cl_i % 5) % 38))
			send_kind "$_cl_k" "s$1-$_cl_i" "$_cl_src" >"$RG_TMP/last.c$1"
			cat "$RG_TMP/last.c$1" >>"$RG_TMP/res.c$1"
			# An MTA does not retry at once: a short pause after a refusal.
			grep -q ' accepted ' "$RG_TMP/last.c$1" || sleep 0.2
		done
	done
}

# flooder: every flood_every s, flood_size messages back to back from one
# of 127.0.0.50-53 (client_message_rate = 20/1m).
flooder() {
	_fl_b=0
	while [ ! -e "$RG_TMP/stop" ]; do
		_fl_b=$((_fl_b + 1))
		_fl_src=127.0.0.$((50 + _fl_b % 4))
		_fl_i=0
		while [ "$_fl_i" -lt "$flood_size" ] && [ ! -e "$RG_TMP/stop" ]; do
			_fl_i=$((_fl_i + 1))
			send_kind flood "f$_fl_b-$_fl_i" "$_fl_src" >"$RG_TMP/last.flood"
			cat "$RG_TMP/last.flood" >>"$RG_TMP/res.flood"
		done
		_fl_n=0
		while [ "$_fl_n" -lt "$flood_every" ] && [ ! -e "$RG_TMP/stop" ]; do
			sleep 1
			_fl_n=$((_fl_n + 1))
		done
	done
}

# ---- run -----------------------------------------------------------------------------

pids=
n=0
while [ "$n" -lt "$clients" ]; do
	client "$n" &
	mta_track $!
	pids="$pids $!"
	n=$((n + 1))
done
flooder &
mta_track $!
pids="$pids $!"

# rss: the worker's VmRSS in KiB.
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$RG_WORKER/status" 2>/dev/null
}
threads() {
	sed -n 's/^Threads:[[:space:]]*\([0-9]*\)/\1/p' "/proc/$RG_WORKER/status" 2>/dev/null
}

reloads=0 reload_failed=0 dns_breaks=0 redis_breaks=0 version=0 dns_up_at="" redis_up_at=""
: >"$RG_TMP/rss"
t0=$(date +%s)
t=0
while [ "$t" -lt "$duration" ]; do
	sleep 1
	t=$(($(date +%s) - t0))
	if [ $((t % reload_every)) = 0 ]; then
		version=$((1 - version))
		write_conf "$version"
		mta_rg_reload
		case $? in
		0) reloads=$((reloads + 1)) ;;
		*) reload_failed=$((reload_failed + 1)) ;;
		esac
	fi
	if [ -z "$dns_up_at" ] && [ -n "$DNS_PID" ] && [ $((t % dns_every)) = $((dns_every / 2)) ]; then
		dns_break
		dns_breaks=$((dns_breaks + 1))
		dns_up_at=$((t + dns_down))
	elif [ -n "$dns_up_at" ] && [ "$t" -ge "$dns_up_at" ]; then
		dns_restore
		dns_up_at=
	fi
	if [ "$redis_every" -gt 0 ] && [ -z "$redis_up_at" ] && [ $((t % redis_every)) = $((redis_every - 5)) ]; then
		redis_break
		redis_breaks=$((redis_breaks + 1))
		redis_up_at=$((t + redis_down))
	elif [ -n "$redis_up_at" ] && [ "$t" -ge "$redis_up_at" ]; then
		redis_restore
		redis_up_at=
	fi
	if [ $((t % sample_every)) = 0 ] && [ "$t" -ge "$warmup" ] && [ "$(tail -n 1 "$RG_TMP/rss" | cut -d' ' -f1)" != "$t" ]; then
		echo "$t $(rss) $(threads)" >>"$RG_TMP/rss"
	fi
	mta_alive "$RG_WORKER" || break
done
touch "$RG_TMP/stop"
[ -z "$dns_up_at" ] || dns_restore
[ -z "$redis_up_at" ] || redis_restore
for p in $pids; do
	mta_wait_until 120 mta_dead "$p"
	wait "$p"
	mta_untrack "$p"
done
echo "$(($(date +%s) - t0)) $(rss) $(threads)" >>"$RG_TMP/rss"
ran=$(($(date +%s) - t0))

# ---- checks ------------------------------------------------------------------------

cat "$RG_TMP"/res.* >"$RG_TMP/results"
# Fields: KIND SOURCE TOKEN STATUS CODE QID RCPTS XCODE
kind_count() { # KIND STATUS
	awk -v k="$1" -v s="$2" '($1 == k || k == "") && ($4 == s || s == "")' "$RG_TMP/results" | wc -l | tr -d ' '
}

same_worker() {
	[ "$RG_WORKER" = "$worker0" ] && mta_alive "$RG_WORKER"
}
tap_check "the worker never died (pid $worker0 all along)" same_worker
tap_is "$(grep -Ec 'worker [0-9]+ (ended|restarted)|failed to start' "$RG_LOG")" 0 \
	"the master never had to restart the worker"
tap_is "$reload_failed" 0 "all $reloads reloads worked"
tap_is "$(grep -c ': reloaded ' "$RG_LOG")" "$reloads" "relayguard logged each of the $reloads reloads"
tap_is "$(kind_count "" unknown)/$(kind_count "" noconn)" "0/0" \
	"every client got an answer (no connection failed, no dot unanswered)"

# What each kind may be told.
bad=$(awk '
	$1 ~ /^(good|trusted|huge|turf|flood)$/ && $4 != "accepted" && $4 != "tempfail" { print; next }
	$1 == "hops" && $4 == "accepted" { print; next }
	$1 ~ /^(relay|hostile)$/ && ($7 ~ /(rl|hx)-[^=,]*=2/) { print }' "$RG_TMP/results" | head -n 5)
tap_is "$bad" "" "each kind got only the answers it may get (good mail never a 5xx, relay and hostile recipients never 250, hops never accepted)"
tap_check "hops: refused with 554 5.4.6 when relayguard ran its checks" \
	[ "$(awk '$1 == "hops" && $5 == "554" && $8 == "5.4.6"' "$RG_TMP/results" | wc -l)" -gt 0 ]
tap_check "relay: refused with 550 5.7.1" \
	[ "$(awk '$1 == "relay" && $7 ~ /rl-[^=]*=550/' "$RG_TMP/results" | wc -l)" -gt 0 ]
tap_check "flood: client_message_rate answered 450 4.7.1" \
	[ "$(awk '$1 == "flood" && $5 == "450" && $8 == "4.7.1"' "$RG_TMP/results" | wc -l)" -gt 0 ]
if [ "$dns_breaks" -gt 0 ]; then
	tap_check "the DNS outages were felt: 451 4.7.25 (rdns) or 451 4.1.8 (sender domain)" \
		[ "$(awk '$5 == "451" && ($8 == "4.7.25" || $8 == "4.1.8")' "$RG_TMP/results" | wc -l)" -gt 0 ]
else
	tap_skip "the DNS outages were felt" "no DNS outage in $duration s"
fi
if [ "$store" = memory ]; then
	tap_skip "the Redis outages were felt" "store = memory"
elif [ "$redis_breaks" -gt 0 ]; then
	tap_check "the Redis outages were felt: 451 4.3.0 (store_failure = tempfail)" \
		[ "$(awk '$5 == "451" && $8 == "4.3.0"' "$RG_TMP/results" | wc -l)" -gt 0 ]
else
	tap_skip "the Redis outages were felt" "no Redis outage in $duration s"
fi
never=
for k in good trusted relay hostile huge turf flood; do
	[ "$(kind_count "$k" accepted)" -gt 0 ] || never="$never $k"
done
tap_is "$never" "" "every kind that may be accepted was accepted at least once"
good_n=$(kind_count good "")
good_ok=$(kind_count good accepted)
most_good() {
	[ "$good_ok" -gt 0 ] && [ $((good_ok * 2)) -gt "$good_n" ]
}
tap_check "most good mail got through ($good_ok of $good_n)" most_good

# Delivery: wait for Postfix to finish.
tap_check "Postfix's queue empties" mta_wait_until 120 mta_postfix_queue_empty
sleep 1

# One line per sink message: "TOKEN rcpt,rcpt" (sorted), and the turfed tokens.
for f in "$SINK_DIR"/*; do
	[ -f "$f" ] || continue
	tok=$(sed -n 's/^X-RG-Token: //p' "$f" | tr -d '\r' | head -n 1)
	rcpts=$(sed -n 's/^X-Rcpt-Args: <\([^>]*\)>.*/\1/p' "$f" | sort | tr '\n' ',')
	echo "${tok:-none} ${rcpts%,}"
done | sort >"$RG_TMP/sink.list"
load_turf_tokens "$turf" | sort >"$RG_TMP/turf.list"
# want.list: what the clients were told, "TOKEN rcpt,rcpt" (the recipients
# that got 250, sorted) for each accepted message that is not turfed.
awk '$4 == "accepted" && $1 != "turf" {
	n = split($7, r, ",")
	for (i = 1; i <= n; i++) { split(r[i], a, "="); if (a[2] == "250") print $3, a[1] } }' \
	"$RG_TMP/results" | sort |
	awk '$1 != t { if (t != "") print t, s; t = $1; s = $2; next } { s = s "," $2 }
	END { if (t != "") print t, s }' | sort >"$RG_TMP/want.list"
awk '$1 == "turf" && $4 == "accepted" { print $3 }' "$RG_TMP/results" | sort >"$RG_TMP/want.turf"
awk '$4 != "accepted" { print $3 }' "$RG_TMP/results" | sort >"$RG_TMP/refused.list"

dups=$(cut -d' ' -f1 "$RG_TMP/sink.list" | uniq -d | head -n 3)
tap_is "$dups" "" "no message reached the sink twice"
diff_out=$(diff "$RG_TMP/want.list" "$RG_TMP/sink.list" | head -n 10)
tap_is "$diff_out" "" "the sink holds exactly the accepted messages, each for exactly the recipients that got 250"
tap_is "$(diff "$RG_TMP/want.turf" "$RG_TMP/turf.list" | head -n 10)" "" \
	"the turf directory holds exactly the accepted turf_senders messages"
leaked=$(cut -d' ' -f1 "$RG_TMP/sink.list" "$RG_TMP/turf.list" | sort | comm -12 - "$RG_TMP/refused.list" | head -n 5)
tap_is "$leaked" "" "no message a client saw refused or tempfailed was delivered or turfed"
tap_is "$(cut -d' ' -f2 "$RG_TMP/sink.list" | tr ',' '\n' | grep -Ec '^(rl|hx)-|^"hx-|!hx-|:hx-')" 0 \
	"no relay or hostile recipient reached the sink"
tap_is "$(find "$turf/tmp" -type f 2>/dev/null | wc -l | tr -d ' ')" 0 "no half-written copy left in turf_dir/tmp"

# Postfix's own account, by queue id: queued ones delivered, discarded ones turfed.
queued=$(sed -n 's/.* postfix\/qmgr\[[0-9]*\]: \([0-9A-F]*\): from=<.*/\1/p' "$PF_LOG" | sort -u)
sent=$(sed -n 's/.* \([0-9A-F]*\): to=<.*status=sent .*/\1/p' "$PF_LOG" | sort -u)
discarded=$(sed -n 's/.* \([0-9A-F]*\): milter-discard: .*/\1/p' "$PF_LOG" | sort -u)
turf_qids=$(find "$turf/new" -type f -exec sed -n 's/^X-Relayguard-Queue-Id: //p' {} + 2>/dev/null | sort -u)
tap_is "$(printf '%s\n' "$queued" | comm -23 - "$(printf '%s\n' "$sent" >"$RG_TMP/sent.q"; echo "$RG_TMP/sent.q")" | head -n 5)" "" \
	"every message Postfix queued ($(printf '%s\n' $queued | grep -c .)) was delivered"
tap_is "$(grep -Ec 'status=(deferred|bounced|expired)' "$PF_LOG")" 0 "Postfix deferred or bounced nothing"
tap_is "$(printf '%s\n' $discarded)" "$(printf '%s\n' $turf_qids)" \
	"every message relayguard discarded ($(printf '%s\n' $discarded | grep -c .)) is in the turf directory, by queue id"
tap_is "$(grep -c 'warning:.*milter' "$PF_LOG")" 0 "Postfix logged no milter warning"

# Memory: the median of the first and of the last third of the samples.
nrss=$(wc -l <"$RG_TMP/rss" | tr -d ' ')
third=$(((nrss + 2) / 3))
median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}
rss_first=$(head -n "$third" "$RG_TMP/rss" | cut -d' ' -f2 | median)
rss_last=$(tail -n "$third" "$RG_TMP/rss" | cut -d' ' -f2 | median)
growth=$((rss_last - rss_first))
bound=$((rss_first * growth_pct / 100))
[ "$bound" -ge "$growth_kib" ] || bound=$growth_kib
memory_flat() {
	[ "$nrss" -ge 3 ] && [ "$growth" -le "$bound" ]
}
rss_why=
ldd "$RELAYGUARD" 2>/dev/null | grep -q libasan &&
	rss_why="relayguard is built with ASan, whose quarantine keeps freed memory (build without --enable-sanitizers)"
[ -z "$RG_WRAPPER" ] || rss_why="relayguard runs under a wrapper (RG_WRAPPER: $(echo $RG_WRAPPER | cut -d" " -f1))"
if [ -z "$rss_why" ]; then
	tap_check "the worker's memory after the warm-up did not grow past the bound: $rss_first -> $rss_last KiB ($growth KiB, bound $bound KiB)" \
		memory_flat
else
	tap_skip "the worker's memory did not grow ($rss_first -> $rss_last KiB)" "$rss_why"
fi

pf_mark=$(mta_log_mark "$PF_LOG")
mta_rg_stop
tap_is "$?:$RG_STATUS" "0:0" "relayguard stops cleanly at the end (status 0)"
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

# ---- summary ---------------------------------------------------------------------------

{
	echo "soak: ${ran}s of traffic, $clients clients + flooder, store $store; $reloads reloads, $dns_breaks DNS outages (${dns_down}s), $redis_breaks Redis outages (${redis_down}s)"
	printf '%-8s %6s %8s %8s %6s\n' kind sent accepted tempfail reject
	for k in good trusted relay hostile huge hops turf flood; do
		printf '%-8s %6s %8s %8s %6s\n' "$k" "$(kind_count "$k" "")" "$(kind_count "$k" accepted)" \
			"$(kind_count "$k" tempfail)" "$(kind_count "$k" reject)"
	done
	printf '%-8s %6s %8s %8s %6s\n' total "$(kind_count "" "")" "$(kind_count "" accepted)" \
		"$(kind_count "" tempfail)" "$(kind_count "" reject)"
	echo "refused recipients at RCPT: $(awk '{ print $7 }' "$RG_TMP/results" | tr ',' '\n' | grep -c '=[45]')"
	echo "delivered (sink messages): $(wc -l <"$RG_TMP/sink.list" | tr -d ' '); turfed (turf_dir copies): $(wc -l <"$RG_TMP/turf.list" | tr -d ' ')"
	echo "messages/s: $(awk -v n="$(kind_count "" "")" -v t="$ran" 'BEGIN { printf "%.1f", n / (t ? t : 1) }')"
	echo "worker VmRSS KiB (t/s rss threads): $(tr '\n' ';' <"$RG_TMP/rss")"
	echo "worker VmRSS growth after warm-up (${warmup}s): $rss_first -> $rss_last KiB = $growth KiB (bound $bound KiB)"
	echo "tempfail codes: $(awk '$4 == "tempfail" { print $5 " " $8 }' "$RG_TMP/results" | sort | uniq -c | awk '{ printf "%s %s x%s; ", $2, $3, $1 }')"
} >"$RG_TMP/summary"
tap_diag "$(cat "$RG_TMP/summary")"
[ -z "${SOAK_SUMMARY:-}" ] || cp "$RG_TMP/summary" "$SOAK_SUMMARY"
tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
