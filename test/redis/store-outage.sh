#!/bin/sh
# store-outage.sh - Redis stopped in the middle of a run: a daemon with
# store_failure = accept lets mail through unlimited, one with
# store_failure = tempfail answers 451 4.3.0; neither crashes nor waits on
# the dead server; both log the outage once and its end once, and enforce
# the limits again when Redis is back.  TAP; skips without redis-server,
# miltertest or hiredis.
set -u
src=${top_srcdir:-.}
WORK=$(mktemp -d /tmp/rgro.XXXXXX) || exit 99
. "$src/test/lib/redis.sh"
trap rg_cleanup EXIT
rg_need_tools
rg_redis_start

for n in A B; do
	failure=accept
	[ $n = B ] && failure=tempfail
	cat > "$WORK/$n.conf" <<CONF
local_domains = example.com
client_message_rate = 2/1h
store = redis://127.0.0.1:$REDIS_PORT/0
store_timeout = 300ms
store_failure = $failure
CONF
	chmod 600 "$WORK/$n.conf"
	rg_daemon "$n" "$WORK/$n.conf"
done

phase() { # NAME: run one phase of store-outage-client.lua
	RG_DATA="$src/test/redis" RG_PORT_A=$A_PORT RG_PORT_B=$B_PORT RG_PHASE=$1 \
		"$MILTERTEST" -s "$src/test/redis/store-outage-client.lua" > "$WORK/mt.out" 2>&1
	rc=$?
	sed 's/^/# /' "$WORK/mt.out"
	return $rc
}

phase before
ok $? "Redis up: the limit holds"

rg_redis_stop
start=$(date +%s)
phase down
ok $? "Redis stopped: A (accept) lets every message through, B (tempfail) refuses them"
[ $(($(date +%s) - start)) -le 5 ]
ok $? "nobody waited on the dead server (the phase took $(($(date +%s) - start)) s)"
grep -q 'mail: tempfail 451 4.3.0 Temporary failure, try again later; by=limits detail=client_message_rate 198.51.100.9: counter store unavailable' "$WORK/B.log"
ok $? "B's refusal is store_failure_reply, 451 4.3.0"
kill -0 "$A_PID" && kill -0 "$B_PID"
ok $? "both daemons still run"

rg_redis_restart
sleep 6 # longer than the longest backoff (5 s): the next message probes Redis
phase after
ok $? "Redis back (empty): the limits hold again on both"

for n in A B; do
	[ "$(grep -c 'counter store redis://127.0.0.1:[0-9]*/0 is unavailable' "$WORK/$n.log")" = 1 ]
	ok $? "$n logged the outage once"
	[ "$(grep -c 'counter store redis://127.0.0.1:[0-9]*/0 available again' "$WORK/$n.log")" = 1 ]
	ok $? "$n logged the recovery once"
done
[ "$(grep -c 'tempfail 451 4.3.0' "$WORK/B.log")" = 3 ]
ok $? "B refused exactly the 3 messages sent while Redis was down"
[ "$(grep -c 'tempfail 451' "$WORK/A.log")" = 0 ]
ok $? "A refused none"

kill "$A_PID" "$B_PID"
wait "$A_PID" "$B_PID"
RG_PIDS=
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error|restarting' "$WORK/A.log" "$WORK/B.log"
ok $? "no sanitizer report, no worker restart"
grep -h 'counter store' "$WORK/A.log" "$WORK/B.log" | sed 's/^/# /'
done_testing
