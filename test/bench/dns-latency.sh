#!/bin/sh
# dns-latency.sh - measure the latency of a reverse-DNS check and an SPF
# check with a cold and a warm libunbound cache (test/bench/bench_dns.c)
# against the test DNS server (test/lib/dns.sh, test/dns/zones.conf) on
# loopback.  A benchmark, not a test: run it by hand from the build tree.
#
#   sh test/bench/dns-latency.sh [ROUNDS]        (default 200)
#
# The server answers from local data, so "cold" here is a loopback round
# trip to the forwarder plus libunbound's work; with a real recursive
# resolver a cold lookup costs what that resolver needs.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
rounds=${1:-200}
make -s -C "$top_builddir" test/bench/bench_dns >/dev/null
. "$top_srcdir/test/lib/dns.sh"
dns_start "$top_srcdir/test/dns/zones.conf" || { echo "no DNS server" >&2; exit 1; }
conf=$DNS_DIR/bench.conf
cat > "$conf" <<CONF
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $top_srcdir/test/dns/libunbound.conf
dns_timeout = 5s
CONF
# 192.0.2.20: PTR mail.spf-pass.test, which resolves back (2 queries);
# alice@spf-pass.test: "v=spf1 mx -all" (TXT, MX, A: 3 queries).
"$top_builddir/test/bench/bench_dns" "$conf" "$rounds" 192.0.2.20 alice@spf-pass.test
