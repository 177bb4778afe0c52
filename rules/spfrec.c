/*
 * spfrec.c - SPF record syntax before libspf2 (see spfrec.h).  Each
 * function below checks one rule of the RFC 7208 section 12 ABNF, named
 * in its comment.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spfrec.h"
#include "strbuf.h"

/* A piece of the record: [p, p + n). */
struct span {
	const char *p;
	size_t n;
};

static bool
span_ieq(struct span s, const char *word)
{
	return s.n == strlen(word) && strncasecmp(s.p, word, s.n) == 0;
}

/*
 * macro-expand = ( "%{" macro-letter transformers *delimiter "}" )
 *                / "%%" / "%_" / "%-"
 * at P (which holds "%"); returns its length, 0 if invalid.  c, r and t
 * only in explanations (RFC 7208 7.3).
 */
static size_t
macro_expand_len(const char *p, const char *end, bool exp)
{
	const char *q;

	if (end - p >= 2 && (p[1] == '%' || p[1] == '_' || p[1] == '-'))
		return 2;
	if (end - p < 4 || p[1] != '{' ||
	    !strchr(exp ? "slodiphcrtv" : "slodiphv", tolower((unsigned char)p[2])))
		return 0;
	for (q = p + 3; q < end && isdigit((unsigned char)*q); q++)
		;
	if (q < end && (*q == 'r' || *q == 'R'))
		q++;
	while (q < end && strchr(".-+,/_=", *q) && *q != '\0')
		q++;
	return q < end && *q == '}' ? (size_t)(q - p) + 1 : 0;
}

/*
 * macro-string = *( macro-expand / macro-literal ), with SP too when
 * SPACE (explain-string).  *LAST_EXPAND gets whether it ends with a
 * macro-expand, *LITERAL_START the start of the literal run at its end.
 */
static bool
macro_string_ok(struct span s, bool exp, bool space, bool *last_expand, const char **literal_start)
{
	const char *p = s.p, *end = s.p + s.n;

	*last_expand = false;
	*literal_start = p;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		size_t n;

		if (c == '%') {
			if ((n = macro_expand_len(p, end, exp)) == 0)
				return false;
			p += n;
			*last_expand = true;
			*literal_start = p;
		} else if ((c >= 0x21 && c <= 0x7e) || (space && c == ' ')) {
			if (*last_expand)
				*literal_start = p;
			*last_expand = false;
			p++;
		} else {
			return false;
		}
	}
	return true;
}

/*
 * toplabel = ( *alphanum ALPHA *alphanum )
 *            / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static bool
toplabel_ok(const char *p, size_t n)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (n == 0 || !isalnum((unsigned char)p[0]) || !isalnum((unsigned char)p[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] == '-')
			hyphen = true;
		else if (isalpha((unsigned char)p[i]))
			alpha = true;
		else if (!isdigit((unsigned char)p[i]))
			return false;
	}
	return alpha || hyphen;
}

/* domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand */
static bool
domain_spec_ok(struct span s, bool exp)
{
	const char *lit, *end = s.p + s.n, *dot;
	bool last_expand;

	if (s.n == 0 || !macro_string_ok(s, exp, false, &last_expand, &lit))
		return false;
	if (last_expand)
		return true;
	if (end > lit && end[-1] == '.')
		end--; /* the optional final dot */
	for (dot = end; dot > lit && dot[-1] != '.'; dot--)
		;
	return dot > lit && toplabel_ok(dot, (size_t)(end - dot));
}

bool
spfrec_domain_spec_ok(const char *s, size_t len)
{
	struct span sp = {s, len};

	return domain_spec_ok(sp, false);
}

bool
spfrec_explanation_ok(const char *text, size_t len)
{
	struct span s = {text, len};
	const char *lit;
	bool last;

	return macro_string_ok(s, true, true, &last, &lit);
}

/* A CIDR length at P (after its "/"): "0" or no leading zero, at most MAX. */
static bool
cidr_ok(const char *p, size_t n, unsigned max)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return v <= max;
}

/* ip4-network and ip6-network with their optional CIDR length ("ip4:" / "ip6:" stripped). */
static bool
ip_network_ok(struct span s, bool v6)
{
	char addr[64];
	unsigned char buf[16];
	const char *slash = memchr(s.p, '/', s.n);
	size_t an = slash ? (size_t)(slash - s.p) : s.n;
	size_t i;

	if (an == 0 || an >= sizeof(addr))
		return false;
	memcpy(addr, s.p, an);
	addr[an] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		return false;
	if (!v6) {
		/* qnum: no leading zeros (inet_pton already refuses them on glibc; say it anyway). */
		for (i = 0; i < an; i++)
			if (addr[i] == '0' && (i == 0 || addr[i - 1] == '.') && i + 1 < an &&
			    isdigit((unsigned char)addr[i + 1]))
				return false;
	}
	return slash == NULL || cidr_ok(slash + 1, s.n - an - 1, v6 ? 128 : 32);
}

/*
 * If *S ends with a CIDR length ("/" digits; "//" digits when V6, as in
 * dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ]), check
 * it, cut it off and store its value in *VALUE (-1 when there is none).
 */
static bool
strip_cidr(struct span *s, bool v6, int *value)
{
	const char *end = s->p + s->n, *d = end;
	size_t mark = v6 ? 2 : 1;

	*value = -1;
	while (d > s->p && isdigit((unsigned char)d[-1]))
		d--;
	if (d == end || (size_t)(d - s->p) < mark || d[-1] != '/')
		return true;
	if (v6 != (d - s->p >= 2 && d[-2] == '/'))
		return true; /* the other kind */
	if (!cidr_ok(d, (size_t)(end - d), v6 ? 128 : 32))
		return false;
	*value = atoi(d);
	s->n = (size_t)(d - mark - s->p);
	return true;
}

/* [ ":" domain-spec ] after a mechanism name; REQUIRED for include and exists. */
static bool
optional_domain(struct span rest, bool required)
{
	if (rest.n == 0)
		return !required;
	if (rest.p[0] != ':')
		return false;
	rest.p++;
	rest.n--;
	return domain_spec_ok(rest, false);
}

enum term_kind { T_BAD, T_ALL, T_OTHER_MECH, T_REDIRECT, T_EXP, T_UNKNOWN_MOD };

/* One term, taken apart. */
struct term {
	struct span text;	/* the whole term */
	enum term_kind kind;
	char qual;		/* '+', '-', '?', '~' or 0 */
	struct span name;	/* mechanism name */
	struct span domain;	/* domain-spec after ":", n == 0 if none */
	int cidr4, cidr6;	/* -1: none */
};

/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
static bool
modifier_name_ok(struct span n)
{
	size_t i;

	if (n.n == 0 || !isalpha((unsigned char)n.p[0]))
		return false;
	for (i = 1; i < n.n; i++)
		if (!isalnum((unsigned char)n.p[i]) && !strchr("-_.", n.p[i]))
			return false;
	return true;
}

/* modifier = redirect / explanation / unknown-modifier (T at "name=") */
static enum term_kind
modifier(struct span name, struct span value)
{
	const char *lit;
	bool last;

	if (span_ieq(name, "redirect"))
		return domain_spec_ok(value, false) ? T_REDIRECT : T_BAD;
	if (span_ieq(name, "exp"))
		return domain_spec_ok(value, false) ? T_EXP : T_BAD;
	return modifier_name_ok(name) && macro_string_ok(value, false, false, &last, &lit)
		   ? T_UNKNOWN_MOD : T_BAD;
}

/* directive = [ qualifier ] mechanism */
static enum term_kind
directive(struct term *t)
{
	struct span rest;
	size_t i;

	t->name = t->text;
	if (t->name.n > 0 && strchr("+-?~", t->name.p[0])) {
		t->qual = t->name.p[0];
		t->name.p++;
		t->name.n--;
	}
	for (i = 0; i < t->name.n && t->name.p[i] != ':' && t->name.p[i] != '/'; i++)
		;
	rest.p = t->name.p + i;
	rest.n = t->name.n - i;
	t->name.n = i;
	if (span_ieq(t->name, "a") || span_ieq(t->name, "mx")) {
		if (!strip_cidr(&rest, true, &t->cidr6) || !strip_cidr(&rest, false, &t->cidr4))
			return T_BAD;
	}
	if (rest.n > 0 && rest.p[0] == ':') {
		t->domain.p = rest.p + 1;
		t->domain.n = rest.n - 1;
	}
	if (span_ieq(t->name, "all"))
		return rest.n == 0 ? T_ALL : T_BAD;
	if (span_ieq(t->name, "include") || span_ieq(t->name, "exists"))
		return optional_domain(rest, true) ? T_OTHER_MECH : T_BAD;
	if (span_ieq(t->name, "ptr") || span_ieq(t->name, "a") || span_ieq(t->name, "mx"))
		return optional_domain(rest, false) ? T_OTHER_MECH : T_BAD;
	if ((span_ieq(t->name, "ip4") || span_ieq(t->name, "ip6")) && rest.n > 1 && rest.p[0] == ':')
		return ip_network_ok(t->domain, t->name.p[2] == '6') ? T_OTHER_MECH : T_BAD;
	return T_BAD;
}

/* term = directive / modifier */
static enum term_kind
term_kind(struct term *t)
{
	const char *eq = memchr(t->text.p, '=', t->text.n);
	struct span name, value;

	t->cidr4 = t->cidr6 = -1;
	/* A modifier's name holds no ":" or "/"; a mechanism's argument may hold "=". */
	if (eq != NULL && memchr(t->text.p, ':', (size_t)(eq - t->text.p)) == NULL &&
	    memchr(t->text.p, '/', (size_t)(eq - t->text.p)) == NULL) {
		name.p = t->text.p;
		name.n = (size_t)(eq - t->text.p);
		value.p = eq + 1;
		value.n = t->text.n - name.n - 1;
		return modifier(name, value);
	}
	return directive(t);
}

/* The next term of [*P, END) separated by spaces; false at the end. */
static bool
next_term(const char **p, const char *end, struct span *t)
{
	while (*p < end && **p == ' ')
		(*p)++;
	if (*p == end)
		return false;
	t->p = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	t->n = (size_t)(*p - t->p);
	return true;
}

/* Is every byte printable ASCII or SP (record = version terms *SP)? */
static bool
chars_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

/*
 * Write one directive for libspf2, working around its refusal of a CIDR
 * length of 0 (RFC 7208 5.6 allows it) where an equivalent exists for a
 * client of FAMILY: ip4:x/0 and ip6:x/0 become two /1 halves; an "a" or
 * "mx" drops the /0 of the other family (it is not used); a:d/0 for an
 * IPv4 client is exists:d (any A record matches).  Other /0 terms are
 * passed on and libspf2 refuses them (a permerror).
 */
static void
emit_directive(struct strbuf *sb, const struct term *t, int family)
{
	bool v6 = family == AF_INET6, ip = span_ieq(t->name, "ip4") || span_ieq(t->name, "ip6");
	const char *slash = t->domain.n ? memchr(t->domain.p, '/', t->domain.n) : NULL;
	char q[2] = {t->qual, '\0'};
	int own = v6 ? t->cidr6 : t->cidr4;

	if (ip && slash != NULL && slash + 2 == t->domain.p + t->domain.n && slash[1] == '0') {
		if (t->name.p[2] == '6')
			strbuf_addf(sb, " %sip6:::/1 %sip6:8000::/1", q, q);
		else
			strbuf_addf(sb, " %sip4:0.0.0.0/1 %sip4:128.0.0.0/1", q, q);
		return;
	}
	if (ip || (t->cidr4 != 0 && t->cidr6 != 0)) {
		strbuf_addc(sb, ' ');
		strbuf_addn(sb, t->text.p, t->text.n);
		return;
	}
	if (own == 0 && !v6 && span_ieq(t->name, "a")) {
		strbuf_addf(sb, " %sexists:", q);
		if (t->domain.n)
			strbuf_addn(sb, t->domain.p, t->domain.n);
		else
			strbuf_add(sb, "%{d}");
		return;
	}
	strbuf_addf(sb, " %s", q);
	strbuf_addn(sb, t->name.p, t->name.n);
	if (t->domain.n) {
		strbuf_addc(sb, ':');
		strbuf_addn(sb, t->domain.p, t->domain.n);
	}
	/* The other family's length is never used: a /0 there is dropped. */
	if (t->cidr4 > 0 || (t->cidr4 == 0 && !v6))
		strbuf_addf(sb, "/%d", t->cidr4);
	if (t->cidr6 > 0 || (t->cidr6 == 0 && v6))
		strbuf_addf(sb, "//%d", t->cidr6);
}

bool
spfrec_prepare(const char *record, size_t len, int family, char *out, size_t size,
    const char **why)
{
	const char *p = record + 6, *end = record + len;
	struct term terms[SPFREC_MAX / 2];
	size_t n = 0, i, redirects = 0, exps = 0;
	bool all = false;
	struct strbuf sb;

	*why = NULL;
	if (len > SPFREC_MAX)
		return *why = "record too long", false;
	if (len < 6 || strncasecmp(record, "v=spf1", 6) != 0 || (len > 6 && record[6] != ' '))
		return *why = "not an SPF record", false;
	if (!chars_ok(record, len))
		return *why = "characters outside printable ASCII", false;
	while (n < SPFREC_MAX / 2 && next_term(&p, end, &terms[n].text)) {
		memset(&terms[n].qual, 0, sizeof(struct term) - offsetof(struct term, qual));
		if ((terms[n].kind = term_kind(&terms[n])) == T_BAD)
			return *why = "syntax error", false;
		all = all || terms[n].kind == T_ALL;
		redirects += terms[n].kind == T_REDIRECT;
		exps += terms[n].kind == T_EXP;
		n++;
	}
	if (redirects > 1 || exps > 1)
		return *why = "redirect= or exp= given twice", false;
	strbuf_init(&sb, out, size);
	strbuf_add(&sb, "v=spf1");
	for (i = 0; i < n; i++) {
		if (terms[i].kind == T_UNKNOWN_MOD || (terms[i].kind == T_REDIRECT && all))
			continue;
		if (terms[i].kind == T_ALL || terms[i].kind == T_OTHER_MECH) {
			emit_directive(&sb, &terms[i], family);
			continue;
		}
		strbuf_addc(&sb, ' ');
		strbuf_addn(&sb, terms[i].text.p, terms[i].text.n);
	}
	/* libspf2 wants a space after the version even when nothing follows. */
	if (sb.len == 6)
		strbuf_addc(&sb, ' ');
	return sb.truncated ? (*why = "record too long", false) : true;
}
