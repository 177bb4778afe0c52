#!/bin/sh
# dns.sh - the DNS classes end to end: a real Postfix, relayguard with
# rdns = fcrdns, spf = enforce and sender_domain_check = yes, and a test
# DNS server (unbound, test/lib/dns.sh) serving test/dns/zones.conf on a
# loopback port chosen at run time (TAP).
#
# Each client is a loopback alias with its own reverse DNS in the test
# zones: 127.0.0.2 confirmed, .3 no PTR, .4 forged, .5 a PTR query that is
# never answered, .6 one answered SERVFAIL, .7-.9 confirmed again, and ::1
# confirmed through AAAA.  Senders come from the SPF and sender-domain
# zones.  The checks look at what the client was told, what reached the
# sink (Authentication-Results and Received-SPF on top, forged
# Authentication-Results gone) and relayguard's log.
#
# Postfix makes no DNS lookups of its own here (mta.sh: smtpd_peername_lookup
# = no, smtp_dns_support_level = disabled), so its view of the clients
# cannot interfere; relayguard decides on its own lookups.
. "${top_srcdir:-.}/test/lib/mta.sh"
. "${top_srcdir:-.}/test/lib/dns.sh"

started=$(date +%s)
mta_require_postfix
mta_init

mta_dns_start "${top_srcdir:-.}/test/dns/zones.conf"
conf=$RG_TMP/relayguard.conf
mta_write "$conf" <<EOF
# relayguard.conf of test/e2e/dns.sh
local_domains = example.com
trusted_networks = 127.0.0.1/32
dns_resolvers = 127.0.0.1@$DNS_PORT
dns_config = $RG_TMP/libunbound.conf
dns_timeout = 1s
rdns = fcrdns
sender_domain_check = yes
spf = enforce
authserv_id = mx.example.com
EOF

mta_sink_start
mta_rg_start "$conf" || tap_bail "relayguard did not start (see $RG_LOG)"
mta_postfix_init example.com
mta_postfix_start

# ---- helpers of this test --------------------------------------------------

# rcpt_is N ERE NAME: the reply to the Nth RCPT of the last dialogue.
rcpt_is() {
	tap_like "$(smtp_reply RCPT "$1")" "$2" "$3"
}

# logged MARK ERE NAME: a relayguard log line since MARK matches ERE.
logged() {
	if mta_wait_log "$RG_LOG" "$1" "$2"; then
		tap_ok "$3"
	else
		tap_fail "$3"
		tap_diag "no log line matching: $2"
	fi
}

# header_of TOKEN NAME: the first NAME: field of the delivered message, unfolded.
header_of() {
	_ho_f=$(mta_sink_file "$1")
	[ -n "$_ho_f" ] || return 1
	awk -v n="$2" '
	/^$/ { exit }
	tolower($0) ~ "^" tolower(n) ":" { v = $0; getline; while ($0 ~ /^[ \t]/) { v = v " " $0; if ((getline) <= 0) break } ; print v; exit }
	' "$_ho_f" | tr -s ' \t' '  '
}

# delivered NAME: the last dialogue's message reached the sink.
delivered() {
	if mta_wait_delivered; then
		tap_ok "$1"
		return 0
	fi
	tap_fail "$1"
	tap_diag "$(cat "$SMTP_REPLIES")"
	return 1
}

# ---- reverse DNS: every class ----------------------------------------------

# pass: 127.0.0.2 has a PTR (mx.loop.test) that resolves back; SPF pass too.
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.2 --from alice@e2e-pass.test --to bob@example.com \
	--add-header "Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=forged.test" \
	--add-header "Authentication-Results: other.example.net; spf=fail"
rcpt_is 1 '^250 ' "127.0.0.2 (PTR confirmed, SPF pass): RCPT accepted"
if delivered "127.0.0.2: delivered"; then
	tap_like "$(header_of "$SMTP_TOKEN" Authentication-Results)" \
		'^Authentication-Results: mx\.example\.com; iprev=pass policy\.iprev=127\.0\.0\.2 \(mx\.loop\.test\); spf=pass smtp\.mailfrom=e2e-pass\.test$' \
		"127.0.0.2: our Authentication-Results says iprev=pass, spf=pass"
	tap_like "$(header_of "$SMTP_TOKEN" Received-SPF)" '^Received-SPF: pass \(mx\.example\.com: .*client-ip=127\.0\.0\.2; .*identity=mailfrom;' \
		"127.0.0.2: Received-SPF: pass, client-ip=127.0.0.2 (loopback is evaluated, not waved through)"
	f=$(mta_sink_file "$SMTP_TOKEN")
	n=$(grep -c '^Authentication-Results: mx\.example\.com;' "$f")
	tap_is "$n" 1 "127.0.0.2: the forged Authentication-Results claiming mx.example.com is gone (one left: ours)"
	tap_check "127.0.0.2: the Authentication-Results of other.example.net is kept" \
		grep -q '^Authentication-Results: other\.example\.net; spf=fail' "$f"
	# The sink adds a Received: of its own on top; ours must be above Postfix's.
	ar=$(grep -n '^Authentication-Results: mx\.example\.com;' "$f" | cut -d: -f1)
	rs=$(grep -n '^Received-SPF:' "$f" | cut -d: -f1)
	pf=$(grep -n '^Received: from client\.test ' "$f" | cut -d: -f1)
	if [ -n "$ar" ] && [ -n "$rs" ] && [ -n "$pf" ] && [ "$ar" -lt "$pf" ] && [ "$rs" -lt "$pf" ]; then
		tap_ok "127.0.0.2: Authentication-Results and Received-SPF are above Postfix's Received:"
	else
		tap_fail "127.0.0.2: Authentication-Results and Received-SPF are above Postfix's Received:"
		tap_diag "lines: A-R $ar, Received-SPF $rs, Postfix's Received $pf"
	fi
fi

# none: no PTR for 127.0.0.3; postmaster is still reachable.
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.3 --from alice@e2e-pass.test --to bob@example.com,postmaster@example.com
rcpt_is 1 '^550 5\.7\.25 Client address 127\.0\.0\.3 has no reverse DNS \(PTR\) record$' \
	"127.0.0.3 (no PTR): 550 5.7.25"
rcpt_is 2 '^250 ' "127.0.0.3: postmaster still accepted"
logged "$mark" 'rcpt: reject 550 5\.7\.25 .*; by=rdns detail=none \(nxdomain\) client=unknown\[127\.0\.0\.3\] .* to=<bob@example\.com>$' \
	"127.0.0.3: logged by=rdns detail=none (nxdomain)"

# forged: 127.0.0.4's PTR name resolves to another address.
mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.4 --from alice@e2e-pass.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^550 5\.7\.25 ' "127.0.0.4 (forged): 550 5.7.25"
logged "$mark" 'by=rdns detail=forged \(elsewhere\.loop\.test\) client=unknown\[127\.0\.0\.4\]' \
	"127.0.0.4: logged by=rdns detail=forged (elsewhere.loop.test)"

# temp: the PTR query for 127.0.0.5 is never answered, 127.0.0.6's gets SERVFAIL.
for c in 5:timeout 6:servfail; do
	ip=127.0.0.${c%%:*}
	why=${c#*:}
	mark=$(mta_log_mark "$RG_LOG")
	t0=$(date +%s)
	mta_smtp "$ip" --from alice@e2e-pass.test --to bob@example.com --quit-after RCPT
	rcpt_is 1 '^451 4\.7\.25 ' "$ip (PTR $why): 451 4.7.25, never 5xx"
	tap_diag "$ip: the dialogue took $(($(date +%s) - t0)) s (dns_timeout = 1s)"
	logged "$mark" "by=rdns detail=temp \\($why\\) client=unknown\\[$(mta_ere "$ip")\\]" \
		"$ip: logged by=rdns detail=temp ($why)"
done

# IPv6: ::1 has a PTR whose AAAA is ::1 (it is not a trusted network here).
if [ "$MTA_IPV6" = yes ]; then
	mta_smtp ::1 --from alice@e2e-pass.test --to bob@example.com
	rcpt_is 1 '^250 ' "::1 (PTR confirmed by AAAA): RCPT accepted"
	if delivered "::1: delivered"; then
		tap_like "$(header_of "$SMTP_TOKEN" Authentication-Results)" \
			'iprev=pass policy\.iprev="::1" \(ip6\.loop\.test\); spf=pass' \
			"::1: iprev=pass (ip6.loop.test), spf=pass (ip6:::1)"
	fi
else
	tap_skip "::1: RCPT accepted" "no IPv6 on loopback here"
	tap_skip "::1: delivered" "no IPv6 on loopback here"
	tap_skip "::1: iprev=pass, spf=pass" "no IPv6 on loopback here"
fi

# ---- SPF and the sender domain -----------------------------------------------------

mark=$(mta_log_mark "$RG_LOG")
mta_smtp 127.0.0.7 --from alice@e2e-fail.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^550 5\.7\.23 SPF fail: 127\.0\.0\.7 is not one of the designated mail servers of e2e-fail\.test$' \
	"127.0.0.7, MAIL FROM e2e-fail.test: 550 5.7.23 SPF fail"
logged "$mark" 'by=spf detail=fail \(e2e-fail\.test\) client=unknown\[127\.0\.0\.7\]' \
	"127.0.0.7: logged by=spf detail=fail"

mta_smtp 127.0.0.7 --from alice@e2e-softfail.test --to bob@example.com
rcpt_is 1 '^250 ' "127.0.0.7, MAIL FROM e2e-softfail.test: softfail is accepted (spf_softfail_action = accept)"
if delivered "127.0.0.7: softfail delivered"; then
	tap_like "$(header_of "$SMTP_TOKEN" Received-SPF)" '^Received-SPF: softfail ' \
		"127.0.0.7: Received-SPF: softfail"
fi

mta_smtp 127.0.0.8 --from alice@nonexistent.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^550 5\.1\.8 ' "127.0.0.8, MAIL FROM nonexistent.test: 550 5.1.8"
mta_smtp 127.0.0.8 --from alice@nullmx.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^550 5\.7\.27 ' "127.0.0.8, MAIL FROM nullmx.test (null MX): 550 5.7.27"
mta_smtp 127.0.0.9 --from alice@x.timeout.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^451 4\.1\.8 ' "127.0.0.9, MAIL FROM x.timeout.test: 451 4.1.8, never 5xx"
# The null sender is checked with the HELO identity (RFC 7208 2.3).
mta_smtp 127.0.0.9 --from "<>" --helo helo-fail.test --to bob@example.com --quit-after RCPT
rcpt_is 1 '^550 5\.7\.23 .*helo-fail\.test$' \
	"127.0.0.9, MAIL FROM <> with HELO helo-fail.test: 550 5.7.23 (the HELO identity fails)"

# ---- what never happened ------------------------------------------------------------

tap_check "Postfix's queue is empty at the end" mta_wait_until 10 mta_postfix_queue_empty
seen=$(cat "$RG_TMP"/smtp/*.replies | grep -c '^RCPT [45]')
logged_n=$(grep -c ': rcpt: \(reject\|tempfail\) [45]' "$RG_LOG")
tap_is "$logged_n" "$seen" "one relayguard log line for each of the $seen RCPT refusals clients saw"
n=$(grep -ci 'warning:.*milter' "$PF_LOG")
tap_is "$n" 0 "Postfix logged no milter warning"
mta_rg_stop
tap_check "relayguard's log has no sanitizer report" mta_rg_log_clean

tap_diag "elapsed: $(($(date +%s) - started)) s"
tap_done
