/*
 * prefilter.c - required-literal extraction and an Aho-Corasick automaton
 * over the literals (see prefilter.h).
 *
 * The extractor is deliberately conservative: it models plain characters,
 * escaped punctuation, the common character-type escapes, anchors,
 * quantifiers, classes, groups and top-level alternation.  Anything else
 * (back references, \Q...\E, \x{..}, an inline (?x) that changes how
 * white space reads) makes it give up, which only costs speed.  Groups
 * are skipped whole: what is inside may be optional or repeated.
 *
 * The automaton has a dense table for the root (most transitions of a
 * sparse dictionary start there) and sorted edge lists for the other
 * states, so memory stays proportional to the total literal length even
 * for 10,000 rules.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "prefilter.h"

#define NONE UINT32_MAX

/* ---- literal extraction ---- */

struct reader {
	const char *re;
	size_t n, i;
	bool extended;
	bool failed;
	unsigned char run[PREFILTER_LIT_MAX], best[PREFILTER_LIT_MAX];
	size_t runlen, bestlen;
};

static unsigned char
fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static void
end_run(struct reader *r)
{
	if (r->runlen > r->bestlen) {
		memcpy(r->best, r->run, r->runlen);
		r->bestlen = r->runlen;
	}
	r->runlen = 0;
}

static void
add_char(struct reader *r, unsigned char c)
{
	if (r->runlen == PREFILTER_LIT_MAX) {
		/* Keep the prefix; start over so a later, longer run can still win. */
		end_run(r);
	}
	r->run[r->runlen++] = fold(c);
}

/* In x mode, skip white space and # comments (they are not part of the pattern). */
static void
skip_blanks(struct reader *r)
{
	while (r->extended && r->i < r->n) {
		unsigned char c = (unsigned char)r->re[r->i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			r->i++;
		} else if (c == '#') {
			while (r->i < r->n && r->re[r->i] != '\n')
				r->i++;
		} else {
			break;
		}
	}
}

/* Read a {n}, {n,} or {n,m} quantifier at r->i; -1 if there is none there (PCRE2 then reads { literally). */
static long
brace_min(struct reader *r, size_t *end)
{
	size_t j = r->i + 1;
	long min = 0;
	bool digits = false;

	while (j < r->n && isdigit((unsigned char)r->re[j])) {
		if (min < 100000)
			min = min * 10 + (r->re[j] - '0');
		j++;
		digits = true;
	}
	if (!digits)
		return -1;
	if (j < r->n && r->re[j] == ',') {
		j++;
		while (j < r->n && isdigit((unsigned char)r->re[j]))
			j++;
	}
	if (j >= r->n || r->re[j] != '}')
		return -1;
	*end = j + 1;
	return min;
}

/*
 * After an atom: consume a quantifier if there is one.  Returns 0 when the
 * atom may be absent (?, *, {0...}), 1 when it is there at least once
 * (+, {n...} with n > 0), 2 when there is no quantifier.
 */
static int
quantifier(struct reader *r)
{
	int res = 2;
	size_t end;
	long min;

	skip_blanks(r);
	if (r->i >= r->n)
		return 2;
	switch (r->re[r->i]) {
	case '?':
	case '*':
		res = 0;
		r->i++;
		break;
	case '+':
		res = 1;
		r->i++;
		break;
	case '{':
		if ((min = brace_min(r, &end)) < 0) {
			r->failed = true; /* a literal { : rare enough not to model */
			return 2;
		}
		res = min == 0 ? 0 : 1;
		r->i = end;
		break;
	default:
		return 2;
	}
	skip_blanks(r);
	if (r->i < r->n && (r->re[r->i] == '?' || r->re[r->i] == '+'))
		r->i++; /* lazy or possessive */
	return res;
}

/* Skip a character class starting at r->i ('['). */
static void
skip_class(struct reader *r)
{
	r->i++;
	if (r->i < r->n && r->re[r->i] == '^')
		r->i++;
	if (r->i < r->n && r->re[r->i] == ']')
		r->i++; /* a ] first is a member */
	while (r->i < r->n && r->re[r->i] != ']') {
		if (r->re[r->i] == '\\') {
			r->i += 2;
		} else if (r->re[r->i] == '[' && r->i + 1 < r->n && r->re[r->i + 1] == ':') {
			const char *close = NULL;
			size_t k;

			for (k = r->i + 2; k + 1 < r->n; k++)
				if (r->re[k] == ':' && r->re[k + 1] == ']') {
					close = r->re + k;
					break;
				}
			r->i = close ? (size_t)(close - r->re) + 2 : r->i + 1;
		} else {
			r->i++;
		}
	}
	if (r->i >= r->n)
		r->failed = true;
	else
		r->i++;
}

/* Skip a group starting at r->i ('('), nested groups, classes and escapes included. */
static void
skip_group(struct reader *r)
{
	int depth = 0;

	if (r->i + 2 < r->n && r->re[r->i + 1] == '?' && r->re[r->i + 2] == '#') {
		while (r->i < r->n && r->re[r->i] != ')')
			r->i++;
		if (r->i >= r->n)
			r->failed = true;
		else
			r->i++;
		return;
	}
	while (r->i < r->n) {
		char c = r->re[r->i];

		if (c == '\\') {
			if (r->i + 1 < r->n && (r->re[r->i + 1] == 'Q' || r->re[r->i + 1] == 'E')) {
				r->failed = true; /* \Q...\E may quote a parenthesis */
				return;
			}
			r->i += 2;
			continue;
		}
		if (c == '[') {
			skip_class(r);
			if (r->failed)
				return;
			continue;
		}
		if (c == '#' && r->extended) {
			while (r->i < r->n && r->re[r->i] != '\n')
				r->i++;
			continue;
		}
		r->i++;
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return;
	}
	r->failed = true;
}

/* A top-level "(?letters)" or "(?letters:" that may switch x mode: refuse those. */
static bool
inline_options_change_x(const struct reader *r)
{
	size_t j = r->i + 2;

	if (r->i + 1 >= r->n || r->re[r->i + 1] != '?')
		return false;
	for (; j < r->n && (isalpha((unsigned char)r->re[j]) || r->re[j] == '-' || r->re[j] == '^'); j++)
		if (r->re[j] == 'x' || r->re[j] == '^')
			return true;
	return false;
}

/* An escape at r->i ('\\'): a literal character (returned) or a non-literal atom (-1); may fail. */
static int
escape(struct reader *r)
{
	unsigned char c;

	if (r->i + 1 >= r->n) {
		r->failed = true;
		return -1;
	}
	c = (unsigned char)r->re[r->i + 1];
	r->i += 2;
	if (c >= 0x80) {
		r->failed = true;
		return -1;
	}
	if (!isalnum(c))
		return c; /* \. \- \/ \\ \@ ...: the character itself */
	if (strchr("dDwWsShHvVRXbBAzZGK", c) != NULL)
		return -1;
	/* \x \o \c \p \P \g \k \N \Q \E \u digits ...: not modelled. */
	r->failed = true;
	return -1;
}

/* One atom at r->i and its quantifier. */
static void
atom(struct reader *r)
{
	unsigned char c = (unsigned char)r->re[r->i];
	int lit = -1;

	switch (c) {
	case '(':
		end_run(r);
		if (inline_options_change_x(r)) {
			r->failed = true;
			return;
		}
		skip_group(r);
		quantifier(r);
		return;
	case '[':
		end_run(r);
		skip_class(r);
		quantifier(r);
		return;
	case '.':
	case '^':
	case '$':
		end_run(r);
		r->i++;
		quantifier(r);
		return;
	case ')':
	case '*':
	case '+':
	case '?':
	case '{':
		r->failed = true;
		return;
	case '\\':
		lit = escape(r);
		break;
	default:
		if (c >= 0x80) {
			/* A non-ASCII character: not a literal here (caseless UTF folding). */
			r->i++;
			while (r->i < r->n && ((unsigned char)r->re[r->i] & 0xC0) == 0x80)
				r->i++;
		} else {
			lit = c;
			r->i++;
		}
	}
	if (r->failed)
		return;
	if (lit < 0) {
		end_run(r);
		quantifier(r);
		return;
	}
	switch (quantifier(r)) {
	case 0:
		end_run(r);
		break;
	case 1:
		add_char(r, (unsigned char)lit);
		end_run(r);
		break;
	default:
		add_char(r, (unsigned char)lit);
	}
}

/* Close the current top-level alternative; false when it has no literal. */
static bool
close_alternative(struct reader *r, struct prefilter_lits *out)
{
	end_run(r);
	if (r->bestlen == 0 || out->n == PREFILTER_ALTS_MAX)
		return false;
	memcpy(out->lit[out->n], r->best, r->bestlen);
	out->len[out->n] = r->bestlen;
	out->n++;
	r->bestlen = 0;
	return true;
}

bool
prefilter_extract(const char *re, size_t relen, bool extended, struct prefilter_lits *out)
{
	struct reader r;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.re = re;
	r.n = relen;
	r.extended = extended;
	for (;;) {
		skip_blanks(&r);
		if (r.i >= r.n)
			break;
		if (re[r.i] == '|') {
			if (!close_alternative(&r, out))
				return false;
			r.i++;
			continue;
		}
		atom(&r);
		if (r.failed)
			return false;
	}
	if (!close_alternative(&r, out)) {
		out->n = 0;
		return false;
	}
	return true;
}

/* ---- the automaton ---- */

struct edge {
	unsigned char byte;
	uint32_t next;
};

struct output {
	uint32_t id;
	uint32_t next;	/* next output of the same state, NONE at the end */
};

struct state {
	struct edge *edges;	/* sorted by byte once built */
	uint32_t nedges, capedges;
	uint32_t fail;
	uint32_t dict;		/* nearest state down the fail chain with outputs, 0 if none */
	uint32_t out;		/* first output, NONE if none */
};

struct prefilter {
	struct state *st;
	uint32_t nstates, capstates;
	struct output *outs;
	uint32_t nouts, capouts;
	uint32_t root[256];	/* dense transitions of the root: 0 means stay at the root */
	bool built;
};

struct prefilter *
prefilter_new(void)
{
	struct prefilter *pf = calloc(1, sizeof(*pf));

	if (pf == NULL)
		return NULL;
	if ((pf->st = calloc(16, sizeof(*pf->st))) == NULL) {
		free(pf);
		return NULL;
	}
	pf->capstates = 16;
	pf->nstates = 1;
	pf->st[0].out = NONE;
	return pf;
}

void
prefilter_free(struct prefilter *pf)
{
	uint32_t i;

	if (pf == NULL)
		return;
	for (i = 0; i < pf->nstates; i++)
		free(pf->st[i].edges);
	free(pf->st);
	free(pf->outs);
	free(pf);
}

static uint32_t
child(const struct state *s, unsigned char c)
{
	uint32_t lo = 0, hi = s->nedges;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (s->edges[mid].byte == c)
			return s->edges[mid].next;
		if (s->edges[mid].byte < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Add an edge S --C--> new state, keeping edges sorted; returns the new state or 0. */
static uint32_t
new_child(struct prefilter *pf, uint32_t s, unsigned char c)
{
	struct state *st;
	uint32_t k, ns;

	if (pf->nstates == pf->capstates) {
		struct state *n = realloc(pf->st, 2 * pf->capstates * sizeof(*n));

		if (n == NULL)
			return 0;
		pf->st = n;
		pf->capstates *= 2;
	}
	st = &pf->st[s];
	if (st->nedges == st->capedges) {
		uint32_t ncap = st->capedges ? 2 * st->capedges : 2;
		struct edge *e = realloc(st->edges, ncap * sizeof(*e));

		if (e == NULL)
			return 0;
		st->edges = e;
		st->capedges = ncap;
	}
	ns = pf->nstates++;
	memset(&pf->st[ns], 0, sizeof(pf->st[ns]));
	pf->st[ns].out = NONE;
	for (k = st->nedges; k > 0 && st->edges[k - 1].byte > c; k--)
		st->edges[k] = st->edges[k - 1];
	st->edges[k].byte = c;
	st->edges[k].next = ns;
	st->nedges++;
	return ns;
}

bool
prefilter_add(struct prefilter *pf, const unsigned char *lit, size_t len, uint32_t id)
{
	uint32_t s = 0, t;
	size_t i;

	if (len == 0 || pf->built)
		return false;
	for (i = 0; i < len; i++) {
		if ((t = child(&pf->st[s], lit[i])) == 0 && (t = new_child(pf, s, lit[i])) == 0)
			return false;
		s = t;
	}
	if (pf->nouts == pf->capouts) {
		uint32_t ncap = pf->capouts ? 2 * pf->capouts : 16;
		struct output *o = realloc(pf->outs, ncap * sizeof(*o));

		if (o == NULL)
			return false;
		pf->outs = o;
		pf->capouts = ncap;
	}
	pf->outs[pf->nouts].id = id;
	pf->outs[pf->nouts].next = pf->st[s].out;
	pf->st[s].out = pf->nouts++;
	return true;
}

/* The transition of the complete automaton from S on C (fail links followed). */
static uint32_t
step(const struct prefilter *pf, uint32_t s, unsigned char c)
{
	for (;;) {
		uint32_t t;

		if (s == 0)
			return pf->root[c];
		if ((t = child(&pf->st[s], c)) != 0)
			return t;
		s = pf->st[s].fail;
	}
}

bool
prefilter_build(struct prefilter *pf)
{
	uint32_t *queue, head = 0, tail = 0, k;

	if ((queue = malloc(pf->nstates * sizeof(*queue))) == NULL)
		return false;
	memset(pf->root, 0, sizeof(pf->root));
	for (k = 0; k < pf->st[0].nedges; k++) {
		uint32_t t = pf->st[0].edges[k].next;

		pf->root[pf->st[0].edges[k].byte] = t;
		pf->st[t].fail = 0;
		pf->st[t].dict = 0;
		queue[tail++] = t;
	}
	/* Breadth first: a state's fail link is known before its children's. */
	while (head < tail) {
		uint32_t s = queue[head++];

		for (k = 0; k < pf->st[s].nedges; k++) {
			uint32_t t = pf->st[s].edges[k].next, f;

			f = step(pf, pf->st[s].fail, pf->st[s].edges[k].byte);
			pf->st[t].fail = f;
			pf->st[t].dict = pf->st[f].out != NONE ? f : pf->st[f].dict;
			queue[tail++] = t;
		}
	}
	free(queue);
	pf->built = true;
	return true;
}

size_t
prefilter_states(const struct prefilter *pf)
{
	return pf ? pf->nstates : 0;
}

/* Report the outputs of S and of every state down its dictionary chain. */
static void
report(const struct prefilter *pf, uint32_t s, prefilter_hit_fn hit, void *arg)
{
	if (pf->st[s].out == NONE)
		s = pf->st[s].dict;
	while (s != 0) {
		uint32_t o;

		for (o = pf->st[s].out; o != NONE; o = pf->outs[o].next)
			hit(pf->outs[o].id, arg);
		s = pf->st[s].dict;
	}
}

void
prefilter_scan(const struct prefilter *pf, const unsigned char *s, size_t len, prefilter_hit_fn hit,
    void *arg)
{
	uint32_t state = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		/* U+212A and U+017F fold to k and s in caseless UTF matching. */
		if (c == 0xE2 && i + 2 < len && s[i + 1] == 0x84 && s[i + 2] == 0xAA) {
			c = 'k';
			i += 2;
		} else if (c == 0xC5 && i + 1 < len && s[i + 1] == 0xBF) {
			c = 's';
			i += 1;
		} else {
			c = fold(c);
		}
		state = step(pf, state, c);
		if (state != 0)
			report(pf, state, hit, arg);
	}
}
