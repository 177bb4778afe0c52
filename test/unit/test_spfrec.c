/*
 * test_spfrec.c - SPF record syntax (RFC 7208 12) before libspf2: which
 * records are syntax errors (permerror), and what libspf2 is given for
 * the others (unknown modifiers dropped, redirect dropped beside "all",
 * CIDR lengths of 0 rewritten per client family).
 */
#include "autoconf.h"

#include <sys/socket.h>

#include "spfrec.h"
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

struct rcase {
	const char *record;
	int family;
	const char *want;	/* NULL: a syntax error */
};

static void
check(const struct rcase *c)
{
	char out[2 * SPFREC_MAX + 16];
	const char *why = NULL;
	bool ok = spfrec_prepare(c->record, strlen(c->record), c->family, out, sizeof(out), &why);

	if (c->want == NULL) {
		tap_ok(!ok, "syntax error: \"%s\" (%s)", show(c->record), why ? why : "accepted");
		return;
	}
	if (!tap_ok(ok, "valid: \"%s\"", show(c->record))) {
		printf("#   why: %s\n", why);
		return;
	}
	tap_str(out, c->want, "  becomes");
}

static void
test_records(void)
{
	static const struct rcase cases[] = {
		{"v=spf1", AF_INET, "v=spf1 "},
		{"V=SPF1 -ALL", AF_INET, "v=spf1 -ALL"},
		{"v=spf1  a   -all ", AF_INET, "v=spf1 a -all"},
		{"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx:example.com/24//64 ?all", AF_INET,
		    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx:example.com/24//64 ?all"},
		{"v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} -all", AF_INET,
		    "v=spf1 include:_spf.example.com exists:%{ir}.%{l1r+-}._spf.%{d} -all"},
		{"v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", AF_INET,
		    "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all"},
		/* RFC 7208 6: unknown modifiers are ignored, whatever their name holds. */
		{"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", AF_INET,
		    "v=spf1 ip4:1.2.3.4 -all"},
		/* RFC 7208 6.1: redirect is ignored when there is an "all". */
		{"v=spf1 redirect=other.example ~all", AF_INET, "v=spf1 ~all"},
		{"v=spf1 a redirect=other.example", AF_INET, "v=spf1 a redirect=other.example"},
		{"v=spf1 -all exp=explain.%{d}", AF_INET, "v=spf1 -all exp=explain.%{d}"},
		/* CIDR length 0 (libspf2 refuses it): equivalent terms. */
		{"v=spf1 ip4:1.1.1.1/0 -all", AF_INET, "v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all"},
		{"v=spf1 -ip6:::/0", AF_INET6, "v=spf1 -ip6:::/1 -ip6:8000::/1"},
		{"v=spf1 a/0 -all", AF_INET, "v=spf1 exists:%{d} -all"},
		{"v=spf1 ~a:h.example/0 -all", AF_INET, "v=spf1 ~exists:h.example -all"},
		{"v=spf1 a/0 -all", AF_INET6, "v=spf1 a -all"},
		{"v=spf1 a//0 -all", AF_INET, "v=spf1 a -all"},
		{"v=spf1 mx/24//0 -all", AF_INET, "v=spf1 mx/24 -all"},
		/* syntax errors */
		{"v=spf1 a:foo-bar -all", AF_INET, NULL},	/* no top label */
		{"v=spf1 a:111.222.33.44", AF_INET, NULL},	/* numeric top label */
		{"v=spf1 a:example.-com", AF_INET, NULL},
		{"v=spf1 a:example.com:8080", AF_INET, NULL},
		{"v=spf1 ptr:", AF_INET, NULL},
		{"v=spf1 mx: -all", AF_INET, NULL},
		{"v=spf1 exists:mail.example.com/24", AF_INET, NULL},
		{"v=spf1 include", AF_INET, NULL},
		{"v=spf1 ip4:1.2.3.4/032", AF_INET, NULL},	/* leading zero */
		{"v=spf1 ip4:1.2.3.4/33", AF_INET, NULL},
		{"v=spf1 ip4:1.2.3", AF_INET, NULL},
		{"v=spf1 ip6:1.2.3.4", AF_INET, NULL},
		{"v=spf1 ip6:2001:db8::/129", AF_INET, NULL},
		{"v=spf1 a/33", AF_INET, NULL},
		{"v=spf1 redirect:t2.example.com", AF_INET, NULL},	/* not a mechanism */
		{"v=spf1 -redirect=t2.example.com", AF_INET, NULL},	/* a modifier has no qualifier */
		{"v=spf1 redirect=a.example redirect=b.example", AF_INET, NULL},
		{"v=spf1 exp=a.example exp=b.example -all", AF_INET, NULL},
		{"v=spf1 exp=-all", AF_INET, NULL},
		{"v=spf1 a:%{x}.example", AF_INET, NULL},		/* unknown macro letter */
		{"v=spf1 a:%{c}.example", AF_INET, NULL},		/* c only in explanations */
		{"v=spf1 a:foo%.example", AF_INET, NULL},		/* a lone % */
		{"v=spf1 a:foo.example.com\r-all", AF_INET, NULL},	/* control character */
		{"v=spf1 a:\xef\xbb\xbfgarbage.example.net -all", AF_INET, NULL},
		{"v=spf1 9x=y", AF_INET, NULL},			/* a modifier name starts with a letter */
		{"v=spf10", AF_INET, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(&cases[i]);
}

static void
test_nul_and_length(void)
{
	static const char rec[] = "v=spf1 a:foo.example.com\0";
	char out[64], big[SPFREC_MAX + 10];
	const char *why;

	tap_ok(!spfrec_prepare(rec, sizeof(rec) - 1, AF_INET, out, sizeof(out), &why),
	    "a NUL byte inside the record is a syntax error");
	memset(big, 'a', sizeof(big));
	memcpy(big, "v=spf1 ", 7);
	tap_ok(!spfrec_prepare(big, sizeof(big), AF_INET, out, sizeof(out), &why),
	    "a record longer than SPFREC_MAX is refused (%s)", why ? why : "");
}

static void
test_explanations(void)
{
	static const char e1[] = "See http://%{d}/why.html?s=%{S}", e2[] = "%{c} is not %{r}, time %{t}";

	tap_ok(spfrec_explanation_ok(e1, strlen(e1)), "explanation with macros");
	tap_ok(spfrec_explanation_ok(e2, strlen(e2)), "c, r, t are allowed in explanations");
	tap_ok(!spfrec_explanation_ok("100% wrong", 10), "a lone % is not");
	tap_ok(!spfrec_explanation_ok("\xef\xbb\xbf" "Explanation", 14), "non-ASCII is not");
	tap_ok(spfrec_domain_spec_ok("%{d}", 4), "a domain-spec may end with a macro");
	tap_ok(spfrec_domain_spec_ok("_spf.example.com.", 17), "or with a top label and a dot");
}

int
main(void)
{
	test_records();
	test_nul_and_length();
	test_explanations();
	return tap_done();
}
