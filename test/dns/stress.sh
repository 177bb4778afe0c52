#!/bin/sh
# stress.sh - the DNS layer under concurrent use (test/dns/dns_stress.c):
# threads with lookups that time out and are cancelled, reverse lookups
# freed while their answers arrive.  Under ASan (CI) this is the race
# test of the reference-counted query objects.  TAP.
srcdir=${top_srcdir:-.}
. "$srcdir/test/lib/dns.sh"
dns_start "$srcdir/test/dns/zones.conf"
case $? in 0) ;; 77) echo "1..0 # SKIP unbound is not installed"; exit 0 ;; *) echo "Bail out! no DNS server"; exit 1 ;; esac
cat > "$DNS_DIR/rg.conf" <<EOF
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $srcdir/test/dns/libunbound.conf
EOF
"${top_builddir:-.}/test/dns/dns_stress" "$DNS_DIR/rg.conf"
