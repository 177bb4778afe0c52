# redis.sh - shell helpers for the tests that run relayguard daemons
# against a private redis-server (source it; POSIX sh).
#
#   rg_need_tools              exit with a TAP skip when redis-server,
#                              redis-cli, miltertest or hiredis is missing
#   rg_redis_start             start redis-server on a free loopback port
#                              (REDIS_PORT, REDIS_PID), in $WORK
#   rg_redis_stop / rg_redis_restart   stop it / start it again on the
#                              same port (an empty server)
#   rg_daemon NAME CONF        start "relayguard -f" on a free loopback
#                              port: NAME_PORT, NAME_PID, log $WORK/NAME.log
#   rg_cleanup                 stop everything (call from an EXIT trap)
#
# Ports are drawn at random and retried when taken: make -j2 check runs
# tests in parallel, and other people's tests run on this machine too.

RG_PIDS=
WORK=${WORK:?WORK not set}

rg_skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

rg_need_tools() {
	command -v redis-server >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
	command -v redis-server >/dev/null 2>&1 || rg_skip "redis-server is not installed"
	command -v redis-cli >/dev/null 2>&1 || rg_skip "redis-cli is not installed"
	[ -x "${MILTERTEST:-}" ] || rg_skip "miltertest is not installed"
	printf 'store = redis://127.0.0.1:6379/0\n' > "$WORK/probe.conf"
	chmod 600 "$WORK/probe.conf"
	"$RELAYGUARD" -n -c "$WORK/probe.conf" >/dev/null 2>&1 ||
		rg_skip "relayguard was built without hiredis"
}

rg_random_port() {
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
}

rg_redis_spawn() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$WORK" --daemonize no --protected-mode no --loglevel warning \
		--logfile "$WORK/redis.log" &
	REDIS_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$REDIS_PID" 2>/dev/null || return 1
		[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	kill "$REDIS_PID" 2>/dev/null
	return 1
}

rg_redis_start() {
	for attempt in 1 2 3 4 5; do
		REDIS_PORT=$(rg_random_port)
		rg_redis_spawn && return 0
	done
	echo "Bail out! cannot start redis-server"
	exit 1
}

rg_redis_stop() {
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

rg_redis_restart() {
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		rg_redis_spawn && return 0
		sleep 0.3
	done
	echo "Bail out! cannot restart redis-server on port $REDIS_PORT"
	exit 1
}

# rg_daemon NAME CONF: start relayguard in the foreground (the test's user).
rg_daemon() {
	name=$1 conf=$2
	for attempt in 1 2 3 4 5; do
		port=$(rg_random_port)
		: > "$WORK/$name.log"
		"$RELAYGUARD" -f -u "$(id -un)" -c "$conf" -p "inet:$port@127.0.0.1" \
			>>"$WORK/$name.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 100 ]; do
			if grep -q "ready on" "$WORK/$name.log"; then
				eval "${name}_PORT=$port ${name}_PID=$pid"
				RG_PIDS="$RG_PIDS $pid"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "Bail out! cannot start relayguard $name"
	cat "$WORK/$name.log"
	exit 1
}

rg_cleanup() {
	for pid in $RG_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $RG_PIDS; do
		wait "$pid" 2>/dev/null
	done
	[ -n "${REDIS_PID:-}" ] && rg_redis_stop
	rm -rf "$WORK"
}

# TAP
RG_N=0
RG_FAIL=0
ok() { # STATUS DESCRIPTION
	RG_N=$((RG_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $RG_N - $2"
	else
		echo "not ok $RG_N - $2"
		RG_FAIL=1
	fi
}
done_testing() {
	echo "1..$RG_N"
	exit $RG_FAIL
}
