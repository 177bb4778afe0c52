#!/bin/sh
# outage.sh - a DNS outage never produces a 5xx, and never holds a command
# longer than dns_timeout (RFC 2505 2.9; LIBRARIES 1.2: an unbounded wait
# would grow libmilter's worker pool without limit).  TAP.
#
# Three outages: a server that drops every query (test/dns/outage.conf),
# one that answers SERVFAIL to everything (servfail.conf), and no server
# at all (a loopback port nothing listens on).  For each, every DNS check
# is on at its strictest, the reverse-DNS check at each of its stages, and
# a what-if session runs every stage; no DNS check may answer 5xx, and the
# run must end within its deadline budget.
srcdir=${top_srcdir:-.}
bin=${RELAYGUARD:?RELAYGUARD not set}
. "$srcdir/test/lib/dns.sh"
DNS_NO_TRAP=1
work=$(mktemp -d "${TMPDIR:-/tmp}/rgout.XXXXXX") || exit 99
trap 'dns_stop; rm -rf "$work"' EXIT
n=0
fail=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

cat > "$work/session.in" <<'SCRIPT'
connect 192.0.2.10
helo mx.good.test
mail <alice@spf-pass.test>
rcpt <bob@example.com>
rcpt <carol@example.com>
data
eom
connect 2001:db8::25
auth alice
helo [2001:db8::25]
mail <alice@spf-pass.test>
rcpt <bob@example.com>
connect 192.0.2.11
helo slow.example.net
mail <>
rcpt <bob@example.com>
data
eom
SCRIPT
commands=$(grep -c . "$work/session.in")

# run NAME RESOLVERS: every stage of rdns, every check enforcing.
run() {
	name=$1
	resolvers=$2
	for stage in connect helo mail rcpt; do
		cat > "$work/rg.conf" <<CONF
dns_resolvers = $resolvers
dns_config = $srcdir/test/dns/libunbound.conf
dns_timeout = 200ms
local_domains = example.com
rdns = fcrdns
rdns_stage = $stage
helo_checks = syntax fqdn ours literal resolves
sender_domain_check = yes
spf = enforce
spf_softfail_action = reject
spf_permerror_action = reject
authserv_id = mx.example.com
CONF
		start=$(date +%s%N)
		"$bin" -t -c "$work/rg.conf" "$work/session.in" > "$work/out" 2>&1
		rc=$?
		end=$(date +%s%N)
		ok $rc "$name, rdns_stage $stage: the what-if run ends normally"
		ms=$(((end - start) / 1000000))
		# A 5xx is allowed only from checks that need no DNS.
		bad=$(grep -E '=> (reject|tempfail) 5' "$work/out" | grep -vE '\[(relay|syntax|data|local_recipients)(:|\])')
		[ -z "$bad" ]
		ok $? "$name, rdns_stage $stage: no 5xx from a DNS check${bad:+ (got: $bad)}"
		grep -qE '=> tempfail 4[0-9][0-9] ' "$work/out"
		ok $? "$name, rdns_stage $stage: the DNS checks answered 4xx"
		# Each command waits at most dns_timeout (200 ms); allow for start-up.
		limit=$((commands * 200 + 2000))
		[ "$ms" -le "$limit" ]
		ok $? "$name, rdns_stage $stage: $commands commands in ${ms} ms (at most ${limit} ms)"
	done
}

for zones in outage servfail; do
	dns_start "$srcdir/test/dns/$zones.conf"
	case $? in 0) ;; 77) echo "1..0 # SKIP unbound is not installed"; exit 0 ;; *) echo "Bail out! no DNS server"; exit 1 ;; esac
	run "$zones" "127.0.0.1@$DNS_PORT"
	dns_stop
done
# No server at all: the discard port, where nothing answers DNS.
run "no server" "127.0.0.1@9"
echo "1..$n"
exit $fail
