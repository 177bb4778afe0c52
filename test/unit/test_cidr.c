/*
 * test_cidr.c - CIDR sets: IPv4 and IPv6, edge prefixes (/0, /32, /128),
 * merging, IPv4-mapped addresses, refused inputs; and ipaddr helpers.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "cidr.h"
#include "tap.h"

static struct cidrset *
make(const char *const *items)
{
	struct cidrset *set = cidrset_new();
	const char *err;

	for (; *items != NULL; items++)
		if (!cidrset_add(set, *items, &err))
			tap_ok(false, "adding %s: %s", *items, err);
	cidrset_freeze(set);
	return set;
}

static void
expect(const struct cidrset *set, const char *ip, bool want, const char *setname)
{
	struct ipaddr a;

	if (!ipaddr_parse(ip, &a)) {
		tap_ok(false, "parse %s", ip);
		return;
	}
	tap_ok(cidrset_contains(set, &a) == want, "%s %s %s", setname, want ? "contains" : "lacks", ip);
}

static void
test_sets(void)
{
	static const char *const lan[] = {"10.0.0.0/8", "192.0.2.128/25", "198.51.100.7",
		"2001:db8::/32", "::1/128", NULL};
	static const char *const all4[] = {"0.0.0.0/0", NULL};
	static const char *const all6[] = {"::/0", NULL};
	static const char *const merge[] = {"10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/24", "11.0.0.0/8",
		NULL};
	static const char *const mapped[] = {"::ffff:203.0.113.0/120", NULL};
	struct cidrset *s = make(lan);

	expect(s, "10.0.0.0", true, "lan");
	expect(s, "10.255.255.255", true, "lan");
	expect(s, "11.0.0.0", false, "lan");
	expect(s, "9.255.255.255", false, "lan");
	expect(s, "192.0.2.128", true, "lan");
	expect(s, "192.0.2.255", true, "lan");
	expect(s, "192.0.2.127", false, "lan");
	expect(s, "198.51.100.7", true, "lan (a /32)");
	expect(s, "198.51.100.8", false, "lan (a /32)");
	expect(s, "198.51.100.6", false, "lan (a /32)");
	expect(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true, "lan");
	expect(s, "2001:db9::", false, "lan");
	expect(s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false, "lan");
	expect(s, "::1", true, "lan (a /128)");
	expect(s, "::2", false, "lan (a /128)");
	expect(s, "::ffff:10.1.2.3", true, "lan (IPv4-mapped client)");
	expect(s, "IPv6:2001:db8::5", true, "lan (Sendmail form)");
	tap_int((long)cidrset_count(s), 5, "count");
	cidrset_free(s);

	s = make(all4);
	expect(s, "0.0.0.0", true, "0/0");
	expect(s, "255.255.255.255", true, "0/0");
	expect(s, "::1", false, "0.0.0.0/0 (IPv6 client)");
	cidrset_free(s);
	s = make(all6);
	expect(s, "::", true, "::/0");
	expect(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, "::/0");
	expect(s, "192.0.2.1", false, "::/0 (IPv4 client)");
	cidrset_free(s);
	s = make(merge);
	expect(s, "10.127.255.255", true, "merged");
	expect(s, "10.128.0.0", true, "merged");
	expect(s, "11.255.255.255", true, "merged (adjacent)");
	expect(s, "12.0.0.0", false, "merged");
	cidrset_free(s);
	s = make(mapped);
	expect(s, "203.0.113.9", true, "::ffff:203.0.113.0/120 as IPv4");
	expect(s, "203.0.114.9", false, "::ffff:203.0.113.0/120 as IPv4");
	cidrset_free(s);
	expect(NULL, "192.0.2.1", false, "NULL set");
}

static void
test_refused(void)
{
	static const char *const bad[] = {"10.1.2.3/8", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/",
		"10.0.0.0/-1", "10.0.0/8", "example.com", "", "/8", "2001:db8::1/64", "10.0.0.0/8x", NULL};
	struct cidrset *s = cidrset_new();
	const char *const *p;
	const char *err;

	for (p = bad; *p != NULL; p++) {
		err = NULL;
		tap_ok(!cidrset_add(s, *p, &err) && err != NULL, "refuses \"%s\" (%s)", *p,
		    err ? err : "accepted");
	}
	cidrset_free(s);
}

static void
test_ipaddr(void)
{
	struct ipaddr a;
	char buf[IPADDR_TEXT], rev[80];

	ipaddr_parse("192.0.2.1", &a);
	ipaddr_reverse_name(&a, rev, sizeof(rev));
	tap_str(rev, "1.2.0.192.in-addr.arpa", "IPv4 reverse name");
	ipaddr_parse("2001:db8::1", &a);
	ipaddr_reverse_name(&a, rev, sizeof(rev));
	tap_str(rev, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	    "IPv6 reverse name");
	ipaddr_parse("::ffff:192.0.2.1", &a);
	ipaddr_format(&a, buf, sizeof(buf));
	tap_str(buf, "192.0.2.1", "IPv4-mapped folds to IPv4");
	ipaddr_parse("[IPv6:2001:DB8:0:0:0:0:0:1]", &a);
	ipaddr_format(&a, buf, sizeof(buf));
	tap_str(buf, "2001:db8::1", "bracketed Sendmail form, RFC 5952 output");
	tap_ok(!ipaddr_parse("1.2.3", &a), "1.2.3 is not an address");
	tap_ok(!ipaddr_parse("[]", &a), "[] is not an address");
	ipaddr_parse("2001:db8:1:2:3:4:5:6", &a);
	ipaddr_mask(&a, 64);
	ipaddr_format(&a, buf, sizeof(buf));
	tap_str(buf, "2001:db8:1:2::", "IPv6 masked to /64");
	ipaddr_parse("192.0.2.255", &a);
	ipaddr_mask(&a, 25);
	ipaddr_format(&a, buf, sizeof(buf));
	tap_str(buf, "192.0.2.128", "IPv4 masked to /25");
}

static void
test_many(void)
{
	struct cidrset *s = cidrset_new();
	const char *err;
	char net[32];
	struct ipaddr a;
	int i;

	for (i = 0; i < 10000; i++) {
		snprintf(net, sizeof(net), "10.%d.%d.0/24", (i * 2) / 256, (i * 2) % 256);
		cidrset_add(s, net, &err);
	}
	cidrset_freeze(s);
	ipaddr_parse("10.0.2.77", &a);
	tap_ok(cidrset_contains(s, &a), "10,000 networks: member found");
	ipaddr_parse("10.0.3.77", &a);
	tap_ok(!cidrset_contains(s, &a), "10,000 networks: gap between members");
	cidrset_free(s);
}

int
main(void)
{
	test_sets();
	test_refused();
	test_ipaddr();
	test_many();
	return tap_done();
}
