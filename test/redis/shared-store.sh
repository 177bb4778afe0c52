#!/bin/sh
# shared-store.sh - two relayguard daemons sharing one real redis-server
# (started here on a loopback port chosen at run time) reach a limit
# together: messages and concurrent connections of one client are counted
# across both, another client is unaffected, and a connection closed on
# one daemon frees its place for the other.  TAP; skips without
# redis-server, miltertest or hiredis.
set -u
src=${top_srcdir:-.}
WORK=$(mktemp -d /tmp/rgrs.XXXXXX) || exit 99
. "$src/test/lib/redis.sh"
trap rg_cleanup EXIT
rg_need_tools
rg_redis_start

for n in A B; do
	cat > "$WORK/$n.conf" <<CONF
local_domains = example.com
client_message_rate = 3/1h
client_connections = 2
store = redis://127.0.0.1:$REDIS_PORT/0
CONF
	chmod 600 "$WORK/$n.conf"
	rg_daemon "$n" "$WORK/$n.conf"
done

RG_DATA="$src/test/redis" RG_PORT_A=$A_PORT RG_PORT_B=$B_PORT \
	"$MILTERTEST" -s "$src/test/redis/shared-store-client.lua" > "$WORK/mt.out" 2>&1
rc=$?
sed 's/^/# /' "$WORK/mt.out"
ok $rc "miltertest: limits reached across both daemons (see above)"

# The replies miltertest saw as "replycode" are these, in the daemons' logs.
grep -c 'connect: tempfail 421 4.7.0 Too many connections from 198.51.100.7.*detail=client_connections 198.51.100.7: 3 open, limit 2' "$WORK/A.log" |
	grep -qx 1
ok $? "A refused the third connection with 421 4.7.0: 3 open, limit 2"
grep -q 'mail: tempfail 450 4.7.1 Too many messages from 198.51.100.7.*client_message_rate 198.51.100.7: 3 of 3 per 1h' "$WORK/B.log"
ok $? "B refused the 4th message with 450 4.7.1 (3 of 3 per 1h: A's two and B's one)"
grep -q 'mail: tempfail 450 4.7.1 Too many messages from 198.51.100.7' "$WORK/A.log"
ok $? "A refuses the 5th as well"
[ "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'relayguard:*' | sort | tr '\n' ' ')" = \
	"relayguard:g:conn:198.51.100.7 relayguard:g:conn:198.51.100.8 relayguard:r:msg:198.51.100.7 relayguard:r:msg:198.51.100.8 " ]
ok $? "the counts live in Redis under relayguard: keys"
i=0
while [ "$(redis-cli -p "$REDIS_PORT" get relayguard:g:conn:198.51.100.7)" != 0 ] && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(redis-cli -p "$REDIS_PORT" get relayguard:g:conn:198.51.100.7)" = 0 ]
ok $? "every connection closed: the concurrency count is back to 0"
[ "$(redis-cli -p "$REDIS_PORT" pttl relayguard:r:msg:198.51.100.7)" -gt 0 ]
ok $? "counters expire by themselves"

kill "$A_PID" "$B_PID"
wait "$A_PID" "$B_PID"
RG_PIDS=
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error|restarting' "$WORK/A.log" "$WORK/B.log"
ok $? "no sanitizer report, no worker restart"
done_testing
