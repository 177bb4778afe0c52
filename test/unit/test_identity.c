/*
 * test_identity.c - the pure parts of the identity checks: which
 * Authentication-Results fields claim our authserv-id (RFC 8601 2.2, 5),
 * what a fully qualified HELO name is, and the sender-domain classes
 * (MX, implicit MX, null MX, none, temporary).
 */
#include "autoconf.h"

#include <stdlib.h>

#include "authres.h"
#include "helo.h"
#include "sender_domain.h"
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
test_claims(void)
{
	static const struct {
		const char *value;
		bool ours;
	} cases[] = {
		{"mx.example.com; spf=pass smtp.mailfrom=example.net", true},
		{" MX.Example.COM; none", true},
		{"mx.example.com 1; dkim=pass", true},			/* with a version */
		{"(comment) mx.example.com; none", true},
		{"(nested (comment)) \"mx.example.com\"; none", true},	/* quoted-string */
		{"\tmx.example.com\n\t; iprev=pass", true},			/* folded */
		{"mx.example.com(c);none", true},
		{"other.example.net; spf=fail", false},
		{"mx.example.com.evil.test; none", false},
		{"evil.test; spf=pass smtp.mailfrom=mx.example.com", false},
		{"\"mx.example.com \"; none", false},
		{"", false},
		{"(only a comment)", false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(authres_claims(cases[i].value, "mx.example.com") == cases[i].ours,
		    "\"%s\" %s ours", show(cases[i].value), cases[i].ours ? "is" : "is not");
}

static void
test_fqdn(void)
{
	static const struct {
		const char *name;
		bool fqdn;
	} cases[] = {
		{"mx.example.com", true},
		{"mx.example.com.", true},
		{"a-b.c1", true},
		{"localhost", false},
		{"localhost.", false},
		{"192.0.2.1", false},
		{"host.123", false},
		{"host.1a", true},
		{"bad..name", false},
		{"", false},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tap_ok(helo_is_fqdn(cases[i].name) == cases[i].fqdn, "\"%s\" %s fully qualified",
		    show(cases[i].name), cases[i].fqdn ? "is" : "is not");
}

/* An answer with N records; an MX record's name is TARGET. */
static struct dns_answer
ans(int type, enum dns_status st, size_t n, unsigned pref, const char *target)
{
	struct dns_answer a = {.type = type, .status = st, .why = DNS_WHY_NONE};
	size_t i;

	a.rr = calloc(n ? n : 1, sizeof(*a.rr));
	for (i = 0; i < n; i++) {
		a.rr[i].pref = pref;
		a.rr[i].text = strdup(target ? target : "");
	}
	a.n = n;
	if (st == DNS_TEMP)
		a.why = DNS_WHY_TIMEOUT;
	return a;
}

static void
test_sender_domain(void)
{
	struct dns_answer mx, a, aaaa;
	enum dns_why why;

	mx = ans(DNS_T_MX, DNS_OK, 1, 10, "mx.example.com");
	tap_ok(sender_domain_classify(&mx, NULL, NULL, &why) == SD_OK, "an MX: ok");
	dns_answer_clear(&mx);
	mx = ans(DNS_T_MX, DNS_OK, 1, 0, "");
	tap_ok(sender_domain_classify(&mx, NULL, NULL, &why) == SD_NULLMX, "0 . : null MX (RFC 7505)");
	dns_answer_clear(&mx);
	mx = ans(DNS_T_MX, DNS_OK, 2, 0, "");
	tap_ok(sender_domain_classify(&mx, NULL, NULL, &why) == SD_OK,
	    "a null MX among others is not a null MX");
	dns_answer_clear(&mx);
	mx = ans(DNS_T_MX, DNS_NXDOMAIN, 0, 0, NULL);
	tap_ok(sender_domain_classify(&mx, NULL, NULL, &why) == SD_NONE, "NXDOMAIN: none");
	dns_answer_clear(&mx);
	mx = ans(DNS_T_MX, DNS_TEMP, 0, 0, NULL);
	tap_ok(sender_domain_classify(&mx, NULL, NULL, &why) == SD_TEMP && why == DNS_WHY_TIMEOUT,
	    "MX timeout: temp");
	dns_answer_clear(&mx);
	mx = ans(DNS_T_MX, DNS_NODATA, 0, 0, NULL);
	a = ans(DNS_T_A, DNS_OK, 1, 0, NULL);
	aaaa = ans(DNS_T_AAAA, DNS_NODATA, 0, 0, NULL);
	tap_ok(sender_domain_classify(&mx, &a, &aaaa, &why) == SD_OK, "no MX, an A: ok (implicit MX)");
	dns_answer_clear(&a);
	a = ans(DNS_T_A, DNS_NODATA, 0, 0, NULL);
	tap_ok(sender_domain_classify(&mx, &a, &aaaa, &why) == SD_NONE, "no MX, no address: none");
	dns_answer_clear(&aaaa);
	aaaa = ans(DNS_T_AAAA, DNS_TEMP, 0, 0, NULL);
	tap_ok(sender_domain_classify(&mx, &a, &aaaa, &why) == SD_TEMP,
	    "no MX, no A, AAAA unknown: temp, never none");
	dns_answer_clear(&a);
	a = ans(DNS_T_A, DNS_OK, 1, 0, NULL);
	tap_ok(sender_domain_classify(&mx, &a, &aaaa, &why) == SD_OK, "an A decides even if AAAA failed");
	dns_answer_clear(&mx);
	dns_answer_clear(&a);
	dns_answer_clear(&aaaa);
}

int
main(void)
{
	test_claims();
	test_fqdn();
	test_sender_domain();
	return tap_done();
}
