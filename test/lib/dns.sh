# dns.sh - start a throwaway DNS server (unbound, from Debian) on a
# loopback port chosen at run time, for tests.  Source it, then:
#
#   dns_start ZONES...   start unbound serving the unbound.conf(5)
#                        fragments ZONES (local-zone/local-data lines);
#                        sets DNS_PORT and DNS_DIR; returns 77 when
#                        unbound is missing, 1 when it cannot start
#   dns_stop             stop it and remove DNS_DIR (also run by the
#                        EXIT trap dns_start installs, unless the caller
#                        set DNS_NO_TRAP=1 and calls dns_stop itself)
#
# The server answers only what the fragments say; each fragment makes "."
# a local zone (static: NXDOMAIN for the rest; deny: no answer at all), and
# it never queries anything (do-not-query-localhost, no root hints used),
# so nothing ever leaves 127.0.0.0/8.  so-reuseport is off, so two tests
# that pick the same port cannot both bind it.
DNS_PORT=
DNS_DIR=
DNS_PID=

dns_unbound() {
	for u in "${UNBOUND:-}" unbound /usr/sbin/unbound /sbin/unbound; do
		[ -n "$u" ] && command -v "$u" >/dev/null 2>&1 && { command -v "$u"; return 0; }
	done
	return 1
}

# A port number in 20000-59999 from /dev/urandom.
dns_random_port() {
	n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + n % 40000))
}

dns_write_conf() {
	{
		printf 'server:\n'
		printf '\tinterface: 127.0.0.1@%s\n\tport: %s\n' "$1" "$1"
		printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n' "$DNS_DIR"
		printf '\tpidfile: "%s/unbound.pid"\n\tlogfile: "%s/unbound.log"\n' "$DNS_DIR" "$DNS_DIR"
		printf '\tuse-syslog: no\n\tverbosity: 1\n\tnum-threads: 1\n\tso-reuseport: no\n'
		printf '\tdo-ip6: no\n\tdo-not-query-localhost: yes\n\taccess-control: 127.0.0.0/8 allow\n'
		printf '\tmodule-config: "iterator"\n'
		printf '\tminimal-responses: yes\n\trrset-roundrobin: no\n'
		shift
		for z in "$@"; do
			printf 'include: "%s"\n' "$z"
		done
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} > "$DNS_DIR/unbound.conf"
}

dns_stop() {
	if [ -n "$DNS_PID" ]; then
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
	[ -n "$DNS_DIR" ] && rm -rf "$DNS_DIR"
	DNS_DIR=
}

dns_start() {
	unbound=$(dns_unbound) || { echo "# unbound is not installed (Debian: apt-get install unbound)"; return 77; }
	DNS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rgdns.XXXXXX") || return 1
	[ "${DNS_NO_TRAP:-0}" = 1 ] || trap dns_stop EXIT
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		port=$(dns_random_port)
		dns_write_conf "$port" "$@"
		"$unbound" -d -c "$DNS_DIR/unbound.conf" 2>>"$DNS_DIR/unbound.log" &
		DNS_PID=$!
		i=0
		while [ $i -lt 100 ]; do
			if grep -q 'start of service' "$DNS_DIR/unbound.log" 2>/dev/null; then
				DNS_PORT=$port
				return 0
			fi
			kill -0 "$DNS_PID" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		kill "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
		: > "$DNS_DIR/unbound.log.$attempt"
		cat "$DNS_DIR/unbound.log" >> "$DNS_DIR/unbound.log.$attempt" 2>/dev/null
		rm -f "$DNS_DIR/unbound.log"
	done
	echo "# unbound did not start; last log:"
	sed 's/^/#   /' "$DNS_DIR/unbound.log.10" 2>/dev/null
	return 1
}
