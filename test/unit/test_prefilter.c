/*
 * test_prefilter.c - literal extraction and the Aho-Corasick scan.
 *
 * The table says which literal each pattern yields (or none).  The
 * property test is the one that matters: for thousands of random
 * patterns and subjects, whenever PCRE2 finds a match, one of the
 * pattern's literals must occur in the (folded) subject; otherwise the
 * prefilter would silently skip a rule that matches.
 */
#include "autoconf.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

#include "prefilter.h"
#include "tap.h"

static void
lits_text(const struct prefilter_lits *l, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < l->n && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%.*s", i ? "|" : "", (int)l->len[i],
		    (const char *)l->lit[i]);
}

static void
test_extract(void)
{
	static const struct {
		const char *re;
		bool x;
		const char *want; /* NULL: no literal */
	} rows[] = {
		{"^user@example\\.com$", false, "user@example.com"},
		{"@Example\\.COM>?$", false, "@example.com"},
		{"viagra", false, "viagra"},
		{"^(mx1|mx2)\\.example\\.net$", false, ".example.net"},
		{"(^|[.-])(dsl|dyn|dialup|ppp)[0-9.-]", false, NULL},
		{"lottery\\s+winner", false, "lottery"},
		{"ab?cdef", false, "cdef"},
		{"abcd*ef", false, "abc"},
		{"abc+def", false, "abc"},
		{"ab{0,3}cdefg", false, "cdefg"},
		{"ab{2}cd", false, "ab"},
		{"viagra|cialis", false, "viagra|cialis"},
		{"viagra|.*", false, NULL},
		{"%", false, "%"},
		{"!", false, "!"},
		{"^@[^:]+:", false, "@"},
		{"\\d+\\.\\d+", false, "."},
		{"foo\\x41bar", false, NULL},
		{"(a)\\1bcd", false, NULL},
		{"\\Qa.b\\E", false, NULL},
		{"x{", false, NULL},
		{" lot  tery # comment\n", true, "lottery"},
		{"lot tery", false, "lot tery"},
		{"(?x) a b c", false, NULL},
		{"(?i)Subject: win", false, "subject: win"},
		{"caf\xc3\xa9 latte", false, " latte"},
		{"[/]xyz", false, "xyz"},
		{"(?#comment)abc", false, "abc"},
		{"", false, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct prefilter_lits l;
		char got[300];
		bool ok = prefilter_extract(rows[i].re, strlen(rows[i].re), rows[i].x, &l);

		lits_text(&l, got, sizeof(got));
		tap_str(ok ? got : NULL, rows[i].want, rows[i].re);
	}
}

struct hits {
	unsigned seen[8];
};

static void
count_hit(uint32_t id, void *arg)
{
	((struct hits *)arg)->seen[id]++;
}

static void
test_scan(void)
{
	static const char *const lits[] = {"he", "she", "his", "hers", "kelvin", "s"};
	struct prefilter *pf = prefilter_new();
	struct hits h;
	size_t i;
	static const unsigned char kelvin[] = "\xe2\x84\xaa" "elvin";

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++)
		prefilter_add(pf, (const unsigned char *)lits[i], strlen(lits[i]), (uint32_t)i);
	tap_ok(prefilter_build(pf), "automaton builds");
	memset(&h, 0, sizeof(h));
	prefilter_scan(pf, (const unsigned char *)"USHERS", 6, count_hit, &h);
	tap_int(h.seen[0], 1, "\"he\" in USHERS (folded)");
	tap_int(h.seen[1], 1, "\"she\" in USHERS");
	tap_int(h.seen[2], 0, "\"his\" not in USHERS");
	tap_int(h.seen[3], 1, "\"hers\" in USHERS");
	tap_int(h.seen[5], 2, "\"s\" twice in USHERS");
	memset(&h, 0, sizeof(h));
	prefilter_scan(pf, kelvin, sizeof(kelvin) - 1, count_hit, &h);
	tap_int(h.seen[4], 1, "U+212A KELVIN SIGN reads as k (PCRE2 caseless UTF folding)");
	memset(&h, 0, sizeof(h));
	prefilter_scan(pf, (const unsigned char *)"h\0is", 4, count_hit, &h);
	tap_int(h.seen[2], 0, "a NUL breaks a literal");
	prefilter_free(pf);
}

/* A random pattern from pieces whose meaning the extractor models, and some it does not. */
static void
random_pattern(char *buf, size_t size)
{
	static const char *const pieces[] = {"a", "b", "ab", "ba", "A", "\\.", ".", "a?", "b*", "a+",
		"(a|b)", "[ab]", "[^a]", "^", "$", "|", "\\d", "\\w", "a{2}", "b{0,2}", "(?:ab)?", "\\s",
		"-", "\\-", "c", "K", "s"};
	size_t n = 1 + (size_t)(rand() % 6), i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *p = pieces[rand() % (int)(sizeof(pieces) / sizeof(pieces[0]))];

		if (len + strlen(p) + 1 >= size)
			break;
		memcpy(buf + len, p, strlen(p) + 1);
		len += strlen(p);
	}
}

static bool
folded_contains(const char *subj, size_t n, const unsigned char *lit, size_t len)
{
	size_t i, j;

	for (i = 0; i + len <= n; i++) {
		for (j = 0; j < len; j++) {
			unsigned char c = (unsigned char)subj[i + j];

			if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lit[j])
				break;
		}
		if (j == len)
			return true;
	}
	return false;
}

static void
test_property(void)
{
	static const char alphabet[] = "abABc.-1 sK";
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	unsigned checked = 0, misses = 0, i, k;

	srand(4);
	for (i = 0; i < 3000; i++) {
		char re[64], subj[16];
		struct prefilter_lits l;
		pcre2_code *code;
		PCRE2_SIZE off;
		int err;
		bool caseless = i % 2;

		random_pattern(re, sizeof(re));
		code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
		    PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0), &err, &off, NULL);
		if (code == NULL || !prefilter_extract(re, strlen(re), false, &l)) {
			pcre2_code_free(code);
			continue;
		}
		for (k = 0; k < 40; k++) {
			size_t n = (size_t)(rand() % 12), j, m;
			bool found = false;

			for (j = 0; j < n; j++)
				subj[j] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
			if (pcre2_match(code, (PCRE2_SPTR)subj, n, 0, 0, md, NULL) < 0)
				continue;
			checked++;
			for (m = 0; m < l.n && !found; m++)
				found = folded_contains(subj, n, l.lit[m], l.len[m]);
			if (!found && misses++ < 5)
				printf("# pattern /%s/%s matched \"%.*s\" without its literal\n", re,
				    caseless ? "i" : "", (int)n, subj);
		}
		pcre2_code_free(code);
	}
	pcre2_match_data_free(md);
	tap_ok(checked > 1000, "property test matched enough subjects (%u)", checked);
	tap_int(misses, 0, "no match without one of the pattern's literals");
}

int
main(void)
{
	test_extract();
	test_scan();
	test_property();
	return tap_done();
}
