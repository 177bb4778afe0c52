/*
 * test_dns.c - the DNS layer's pure parts: reverse names (in-addr.arpa,
 * ip6.arpa, mapped addresses, buffer bounds), the classification of
 * libunbound results (found / not found / temporary failure kept apart),
 * names we may send, rdata parsing (A, AAAA, PTR, MX, null MX, TXT), and
 * the reverse-DNS classes (iprev_classify).
 */
#include "autoconf.h"

#include <stdlib.h>

#include "dns.h"
#include "iprev.h"
#include "strbuf.h"
#include "tap.h"

/* S made printable for a TAP description (one line). */
static const char *
show(const char *s)
{
	static char buf[512];
	struct strbuf sb;

	strbuf_init(&sb, buf, sizeof(buf));
	strbuf_add_printable(&sb, s, 200);
	return buf;
}

static void
test_reverse_names(void)
{
	static const struct {
		const char *ip, *want;
	} cases[] = {
		{"192.0.2.1", "1.2.0.192.in-addr.arpa"},
		{"10.0.0.255", "255.0.0.10.in-addr.arpa"},
		{"0.0.0.0", "0.0.0.0.in-addr.arpa"},
		{"::ffff:198.51.100.7", "7.100.51.198.in-addr.arpa"},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
		{"2001:DB8:ABCD:12::F", "f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa"},
		{"::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"},
		{"[IPv6:2001:db8::25]", "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
	};
	char rev[80];
	struct ipaddr a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ipaddr_parse(cases[i].ip, &a);
		rev[0] = '\0';
		tap_ok(ipaddr_reverse_name(&a, rev, sizeof(rev)), "reverse name of %s fits", cases[i].ip);
		tap_str(rev, cases[i].want, cases[i].ip);
	}
	ipaddr_parse("2001:db8::1", &a);
	tap_ok(!ipaddr_reverse_name(&a, rev, 72), "an ip6.arpa name does not fit in 72 bytes");
	tap_ok(ipaddr_reverse_name(&a, rev, 73), "and fits in 73");
}

static void
test_classify(void)
{
	static const struct {
		int err, rcode;
		bool havedata, nxdomain, bogus;
		enum dns_status want;
		enum dns_why why;
		const char *name;
	} cases[] = {
		{0, 0, true, false, false, DNS_OK, DNS_WHY_NONE, "NOERROR with data: found"},
		{0, 0, false, false, false, DNS_NODATA, DNS_WHY_NONE, "NOERROR without data: NODATA"},
		{0, 3, false, true, false, DNS_NXDOMAIN, DNS_WHY_NONE, "NXDOMAIN"},
		{0, 2, false, false, false, DNS_TEMP, DNS_WHY_SERVFAIL, "SERVFAIL: temporary"},
		{0, 5, false, false, false, DNS_TEMP, DNS_WHY_SERVFAIL, "REFUSED: temporary"},
		{0, 4, false, false, false, DNS_TEMP, DNS_WHY_ERROR, "NOTIMP: temporary"},
		{0, 2, false, false, true, DNS_TEMP, DNS_WHY_BOGUS, "DNSSEC bogus: temporary"},
		{0, 0, true, false, true, DNS_TEMP, DNS_WHY_BOGUS, "bogus data is not data"},
		{-2, 0, false, false, false, DNS_TEMP, DNS_WHY_ERROR, "library error: temporary"},
	};
	enum dns_why why;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dns_status st = dns_classify(cases[i].err, cases[i].rcode, cases[i].havedata,
		    cases[i].nxdomain, cases[i].bogus, &why);

		tap_ok(st == cases[i].want && why == cases[i].why, "%s (got %s/%s)", cases[i].name,
		    dns_status_name(st), dns_why_name(why));
	}
}

static void
test_names(void)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{"example.com", true},
		{"example.com.", true},
		{"a", true},
		{"macro%percent  space%20url-space.example.com", true},
		{"", false},
		{".", false},
		{"a..b", false},
		{".a", false},
		{"a\tb.example", false},
		{"a\nb.example", false},
		{"x123456789012345678901234567890123456789012345678901234567890123.example", false},
		{"x12345678901234567890123456789012345678901234567890123456789012.example", true},
	};
	char longname[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(dns_name_ok(cases[i].name) == cases[i].ok, "name \"%s\" %s", show(cases[i].name),
		    cases[i].ok ? "may be asked" : "is refused");
	memset(longname, 'a', sizeof(longname));
	for (i = 63; i < 260; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	tap_ok(dns_name_ok(longname), "253 bytes is a name");
	longname[253] = 'a';
	longname[254] = '\0';
	tap_ok(!dns_name_ok(longname), "254 bytes is not");
}

static void
test_rdata(void)
{
	char a4[] = {(char)192, 0, 2, 10};
	char a6[16] = {0x20, 0x01, 0x0d, (char)0xb8};
	char ptr[] = "\2mx\4Good\4test";	/* the final 0 is the string's NUL */
	char bad[] = "\2m.\4test";
	char mx[] = "\0\12\2mx\4good\4test";
	char nullmx[] = "\0\0";
	char txt[] = "\7v=spf1 \4-all";
	char *data[4];
	int len[4];
	struct dns_answer a = {0};

	data[0] = a4;
	len[0] = 4;
	data[1] = a4;
	len[1] = 3;
	a6[15] = 0x25;
	tap_ok(dns_parse_rdata(DNS_T_A, data, len, 2, &a), "A parsed");
	tap_int((long)a.n, 1, "a 3-byte A record is skipped");
	tap_ok(a.rr[0].ip.family == AF_INET && a.rr[0].ip.a[3] == 10, "A is 192.0.2.10");
	dns_answer_clear(&a);
	data[0] = a6;
	len[0] = 16;
	dns_parse_rdata(DNS_T_AAAA, data, len, 1, &a);
	tap_ok(a.n == 1 && a.rr[0].ip.family == AF_INET6 && a.rr[0].ip.a[15] == 0x25, "AAAA parsed");
	dns_answer_clear(&a);
	data[0] = ptr;
	len[0] = sizeof(ptr);
	data[1] = bad;
	len[1] = sizeof(bad);
	dns_parse_rdata(DNS_T_PTR, data, len, 2, &a);
	tap_int((long)a.n, 1, "a PTR name with a dot inside a label is skipped");
	tap_str(a.rr[0].text, "mx.good.test", "PTR name, lowercase, no trailing dot");
	dns_answer_clear(&a);
	data[0] = mx;
	len[0] = sizeof(mx);
	data[1] = nullmx;
	len[1] = 3;
	dns_parse_rdata(DNS_T_MX, data, len, 2, &a);
	tap_ok(a.n == 2 && a.rr[0].pref == 10, "MX preference 10");
	tap_str(a.rr[0].text, "mx.good.test", "MX exchange");
	tap_ok(a.rr[1].pref == 0 && a.rr[1].text[0] == '\0', "null MX: preference 0, exchange \".\" as \"\"");
	dns_answer_clear(&a);
	data[0] = txt;
	len[0] = sizeof(txt) - 1;
	dns_parse_rdata(DNS_T_TXT, data, len, 1, &a);
	tap_str(a.rr[0].text, "v=spf1 -all", "TXT strings are concatenated without separator");
	tap_int((long)a.rr[0].len, 11, "TXT length");
	dns_answer_clear(&a);
}

/* An answer of TYPE with STATUS and up to two records. */
static void
answer(struct dns_answer *a, int type, enum dns_status st, const char *t1, const char *t2)
{
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->status = st;
	a->rr = calloc(2, sizeof(*a->rr));
	if (t1 != NULL) {
		a->rr[a->n].text = strdup(t1);
		if (type != DNS_T_PTR)
			ipaddr_parse(t1, &a->rr[a->n].ip);
		a->n++;
	}
	if (t2 != NULL) {
		a->rr[a->n].text = strdup(t2);
		if (type != DNS_T_PTR)
			ipaddr_parse(t2, &a->rr[a->n].ip);
		a->n++;
	}
}

static void
test_iprev(void)
{
	struct dns_answer ptr, fwd[2];
	struct iprev_result r;
	struct ipaddr client;

	ipaddr_parse("192.0.2.13", &client);
	answer(&ptr, DNS_T_PTR, DNS_OK, "a.example", "b.example");
	answer(&fwd[0], DNS_T_A, DNS_OK, "192.0.2.99", NULL);
	answer(&fwd[1], DNS_T_A, DNS_OK, "192.0.2.13", NULL);
	iprev_classify(&ptr, fwd, 2, &client, &r);
	tap_ok(r.klass == IPREV_PASS, "second name confirms: pass (%s)", iprev_class_name(r.klass));
	tap_str(r.name, "b.example", "the confirmed name is reported");
	dns_answer_clear(&fwd[1]);
	answer(&fwd[1], DNS_T_A, DNS_NXDOMAIN, NULL, NULL);
	iprev_classify(&ptr, fwd, 2, &client, &r);
	tap_ok(r.klass == IPREV_FORGED, "no name confirms: forged (%s)", iprev_class_name(r.klass));
	tap_str(r.name, "a.example", "forged names the first PTR name");
	dns_answer_clear(&fwd[1]);
	answer(&fwd[1], DNS_T_A, DNS_TEMP, NULL, NULL);
	iprev_classify(&ptr, fwd, 2, &client, &r);
	tap_ok(r.klass == IPREV_TEMP, "one name unknown, none confirms: temp (%s)",
	    iprev_class_name(r.klass));
	iprev_classify(&ptr, fwd, 1, &client, &r);
	tap_ok(r.klass == IPREV_FORGED, "only the names looked up count");
	dns_answer_clear(&ptr);
	answer(&ptr, DNS_T_PTR, DNS_NXDOMAIN, NULL, NULL);
	iprev_classify(&ptr, fwd, 0, &client, &r);
	tap_ok(r.klass == IPREV_NONE && r.ptr == DNS_NXDOMAIN, "no PTR: none");
	dns_answer_clear(&ptr);
	answer(&ptr, DNS_T_PTR, DNS_NODATA, NULL, NULL);
	iprev_classify(&ptr, fwd, 0, &client, &r);
	tap_ok(r.klass == IPREV_NONE, "PTR NODATA: none");
	dns_answer_clear(&ptr);
	answer(&ptr, DNS_T_PTR, DNS_TEMP, NULL, NULL);
	ptr.why = DNS_WHY_SERVFAIL;
	iprev_classify(&ptr, fwd, 0, &client, &r);
	tap_ok(r.klass == IPREV_TEMP && r.why == DNS_WHY_SERVFAIL, "PTR SERVFAIL: temp (servfail)");
	tap_str(iprev_authres_name(IPREV_NONE), "permerror", "RFC 8601: no PTR is a permerror");
	tap_str(iprev_authres_name(IPREV_FORGED), "fail", "RFC 8601: forged is a fail");
	dns_answer_clear(&ptr);
	dns_answer_clear(&fwd[0]);
	dns_answer_clear(&fwd[1]);
}

int
main(void)
{
	test_reverse_names();
	test_classify();
	test_names();
	test_rdata();
	test_iprev();
	return tap_done();
}
