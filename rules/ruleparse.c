/*
 * ruleparse.c - one rule line into a struct rule (see ruleparse.h; the
 * language is documented in relayguard.rules(5)).
 *
 * The line is read left to right with a cursor: optional name, stage,
 * optional field, optional pattern, optional "if" conditions, action.
 * Checks that need the whole rule (what a stage knows, what RELAY may
 * depend on, which $N the text may use) run at the end.  The first
 * problem ends the line with one diagnostic: later problems of the same
 * line would mostly be echoes of the first.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "check.h"
#include "ruleparse.h"
#include "strbuf.h"

struct parse {
	const char *p;		/* the cursor, always at a word or the end */
	struct rule *r;
	pcre2_compile_context *cc;
	char err[600];
};

static const struct {
	const char *word;
	enum stage stage;
} stages[] = {
	{"connect", STAGE_CONNECT}, {"helo", STAGE_HELO}, {"mail", STAGE_MAIL}, {"rcpt", STAGE_RCPT},
	{"header", STAGE_HEADER}, {"body", STAGE_BODY}, {"eom", STAGE_EOM},
};

static const char *const fact_names[RFACT_COUNT] = {
	"trusted", "authenticated", "internal", "may_relay", "null_sender", "local_rcpt", "external_rcpt",
};

static const char *const action_names[RA_COUNT] = {
	"OK", "DUNNO", "REJECT", "DISCARD", "TURF", "QUARANTINE", "PREPEND", "WARN", "RELAY", "SKIP",
};

/* Macros that carry the sender: a RELAY rule may not look at them (RFC 2505 2.1). */
static const char *const sender_macros[] = {"{mail_addr}", "{mail_host}", "{mail_mailer}", "s", NULL};

const char *
ruleparse_action_name(enum raction a)
{
	return (unsigned)a < RA_COUNT ? action_names[a] : "?";
}

const char *
ruleparse_fact_name(enum rfact f)
{
	return (unsigned)f < RFACT_COUNT ? fact_names[f] : "?";
}

const char *
ruleparse_field_name(enum rfield f)
{
	static const char *const names[] = {"(none)", "client", "addr", "name", "helo", "sender", "rcpt",
		"{macro}", "header", "header line", "body line"};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

static bool __attribute__((format(printf, 2, 3)))
fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	va_end(ap);
	return false;
}

/* ---- words ---- */

static void
skip_ws(struct parse *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/* The next word (up to white space) into BUF, cut to fit, without moving; its full length. */
static size_t
peek(const struct parse *ps, char *buf, size_t size)
{
	size_t n = strcspn(ps->p, " \t");

	snprintf(buf, size, "%.*s", (int)n, ps->p);
	return n;
}

static void
advance(struct parse *ps, size_t n)
{
	ps->p += n;
	skip_ws(ps);
}

/*
 * A piece of the line for a diagnostic: short, and printable (control and
 * 8-bit bytes as \xNN) but otherwise as the administrator wrote it, so a
 * pattern's backslashes stay backslashes.
 */
static const char *
shown(const char *w, char *buf, size_t size)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, buf, size);
	for (i = 0; w[i] != '\0' && i < 60; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c < 0x20 || c >= 0x7f)
			strbuf_addf(&sb, "\\x%02x", c);
		else
			strbuf_addc(&sb, (char)c);
	}
	if (w[i] != '\0')
		strbuf_add(&sb, "...");
	return buf;
}

static bool
all_digits(const char *w)
{
	if (*w == '\0')
		return false;
	for (; *w != '\0'; w++)
		if (!isdigit((unsigned char)*w))
			return false;
	return true;
}

/* Action keyword of W (any case); -1 if none. */
static int
action_word(const char *w)
{
	static const struct {
		const char *word;
		int action;
	} words[] = {
		{"OK", RA_OK}, {"DUNNO", RA_DUNNO}, {"REJECT", RA_REFUSE}, {"DEFER", RA_REFUSE},
		{"TEMPFAIL", RA_REFUSE}, {"DISCARD", RA_DISCARD}, {"TURF", RA_TURF},
		{"QUARANTINE", RA_QUARANTINE}, {"PREPEND", RA_PREPEND}, {"WARN", RA_WARN},
		{"RELAY", RA_RELAY}, {"SKIP", RA_SKIP},
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (str_ieq(w, words[i].word))
			return words[i].action;
	return -1;
}

static bool
is_action(const char *w)
{
	return action_word(w) != -1 || all_digits(w);
}

static int
fact_word(const char *w)
{
	int i;

	for (i = 0; i < RFACT_COUNT; i++)
		if (strcmp(w, fact_names[i]) == 0)
			return i;
	return -1;
}

/* A field keyword or {macro}; false if W is neither. */
static bool
field_word(const char *w, enum rfield *f, char **name)
{
	static const struct {
		const char *word;
		enum rfield field;
	} words[] = {
		{"addr", RF_ADDR}, {"name", RF_NAME}, {"helo", RF_HELO}, {"sender", RF_SENDER}, {"rcpt", RF_RCPT},
	};
	size_t i, n = strlen(w);

	*name = NULL;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i].word) == 0)
			return *f = words[i].field, true;
	if (n < 3 || n > 30 || w[0] != '{' || w[n - 1] != '}')
		return false;
	for (i = 1; i < n - 1; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '_')
			return false;
	/* The session keeps one-letter macros bare ("i"), longer ones in braces. */
	*name = n == 3 ? strndup(w + 1, 1) : strdup(w);
	*f = RF_MACRO;
	return *name != NULL;
}

/* ---- patterns ---- */

pcre2_compile_context *
ruleparse_context(void)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);

	if (cc == NULL)
		return NULL;
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	pcre2_set_max_pattern_length(cc, RULE_PATTERN_MAX);
	pcre2_set_parens_nest_limit(cc, RULE_PARENS_MAX);
	return cc;
}

/* The flags after the closing slash, into OPTS. */
static bool
pattern_flags(struct parse *ps, const char *q, uint32_t *opts, bool *extended, const char **end)
{
	for (; *q != '\0' && *q != ' ' && *q != '\t'; q++) {
		switch (*q) {
		case 'i': *opts |= PCRE2_CASELESS; break;
		case 'm': *opts |= PCRE2_MULTILINE; break;
		case 's': *opts |= PCRE2_DOTALL; break;
		case 'x': *opts |= PCRE2_EXTENDED; *extended = true; break;
		case 'u': *opts = (*opts & ~PCRE2_NEVER_UTF) | PCRE2_MATCH_INVALID_UTF | PCRE2_UCP; break;
		default:
			if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
				return fail(ps, "unknown flag after the pattern (flags: i, m, s, x, u)");
			return fail(ps, "unknown flag \"%c\" after the pattern (flags: i, m, s, x, u)", *q);
		}
	}
	*end = q;
	return true;
}

/*
 * [!]/pattern/flags at the cursor into T.  Matching is on raw bytes by
 * default: mail is full of 8-bit text that is not UTF-8 (Latin-1 bodies,
 * undecoded headers), and in byte mode nothing in the input can make a
 * pattern fail; UTF-8 in a pattern matches the same bytes in the input.
 * The u flag asks for UTF-8 characters (classes, caseless matching and \w
 * beyond ASCII) with PCRE2_MATCH_INVALID_UTF, so invalid sequences in the
 * input just do not match instead of failing the match (LIBRARIES 4); a
 * "." or [^x] then does not step over such a byte.  A (*UTF) in the
 * pattern itself is refused (it would make invalid input an error at
 * match time), and so is \C (one code unit, which can split a character).
 */
static bool
parse_pattern(struct parse *ps, struct rtest *t)
{
	const char *start = ps->p, *q = ps->p, *body, *end = NULL;
	uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C;
	PCRE2_SIZE off;
	char buf[80], msg[200];
	int code;

	if (*q == '!') {
		t->negate = true;
		q++;
	}
	if (*q != '/')
		return fail(ps, "expected a /pattern/ at \"%s\"", shown(ps->p, buf, sizeof(buf)));
	body = ++q;
	for (; *q != '\0' && *q != '/'; q++)
		if (*q == '\\' && q[1] != '\0')
			q++;
	if (*q == '\0')
		return fail(ps, "pattern %s has no closing /", shown(start, buf, sizeof(buf)));
	if (q == body)
		return fail(ps, "empty pattern //: leave the pattern out to match always");
	if (!pattern_flags(ps, q + 1, &opts, &t->extended, &end))
		return false;
	if ((t->source = strndup(start, (size_t)(end - start))) == NULL)
		return fail(ps, "out of memory");
	t->re = pcre2_compile((PCRE2_SPTR)body, (size_t)(q - body), opts, &code, &off, ps->cc);
	if (t->re == NULL) {
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		return fail(ps, "bad pattern %s: %s at offset %zu", shown(t->source, buf, sizeof(buf)), msg,
		    (size_t)off);
	}
	/* Without JIT (other platforms) the interpreter runs, with the same limits. */
	(void)pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(t->re, PCRE2_INFO_CAPTURECOUNT, &t->ncaptures);
	advance(ps, (size_t)(end - ps->p));
	return true;
}

static bool
starts_pattern(const char *p)
{
	return p[0] == '/' || (p[0] == '!' && p[1] == '/');
}

/* ---- head: name, stage, main test ---- */

static bool
parse_name(struct parse *ps)
{
	char w[64], buf[80];
	size_t n = peek(ps, w, sizeof(w)), i;
	enum check_id id;

	if (n < 2 || n >= sizeof(w) || w[n - 1] != ':')
		return true; /* no name */
	w[n - 1] = '\0';
	if (!isalpha((unsigned char)w[0]))
		return fail(ps, "rule name \"%s\" must start with a letter", shown(w, buf, sizeof(buf)));
	for (i = 1; i < n - 1; i++)
		if (!isalnum((unsigned char)w[i]) && strchr("_.-", w[i]) == NULL)
			return fail(ps, "rule name \"%s\" may hold letters, digits, _ . - only",
			    shown(w, buf, sizeof(buf)));
	if (check_by_name(w, &id))
		return fail(ps, "rule name \"%s\" is the name of a built-in check", w);
	if ((ps->r->id = strdup(w)) == NULL)
		return fail(ps, "out of memory");
	advance(ps, n);
	return true;
}

static bool
parse_stage(struct parse *ps)
{
	char w[32], buf[80];
	size_t n = peek(ps, w, sizeof(w)), i;

	if (n == 0)
		return fail(ps, "missing stage");
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		if (n < sizeof(w) && strcmp(w, stages[i].word) == 0) {
			ps->r->stage = stages[i].stage;
			advance(ps, n);
			return true;
		}
	}
	return fail(ps, "unknown stage \"%s\" (stages: connect, helo, mail, rcpt, header, body, eom)",
	    shown(w, buf, sizeof(buf)));
}

/* The field a pattern right after the stage reads. */
static enum rfield
default_field(enum stage st)
{
	switch (st) {
	case STAGE_CONNECT: return RF_CLIENT;
	case STAGE_HELO: return RF_HELO;
	case STAGE_MAIL: return RF_SENDER;
	case STAGE_RCPT: return RF_RCPT;
	case STAGE_HEADER: return RF_HEADER_LINE;
	case STAGE_BODY: return RF_BODY;
	default: return RF_NONE;
	}
}

static const char *
fields_of(enum stage st)
{
	switch (st) {
	case STAGE_CONNECT: return "addr, name or {macro}";
	case STAGE_HEADER: return "a header name or {macro}";
	case STAGE_BODY: return "none: body rules match each line";
	case STAGE_EOM: return "addr, name, helo, sender, rcpt or {macro}";
	default: return "{macro}";
	}
}

/* Is F a field the main test of a STAGE rule may name? */
static bool
main_field_ok(enum stage st, enum rfield f)
{
	if (f == RF_MACRO)
		return st != STAGE_BODY;
	if (st == STAGE_CONNECT)
		return f == RF_ADDR || f == RF_NAME;
	return st == STAGE_EOM;
}

/* The word after the stage names a field (then a pattern must follow). */
static bool
parse_main_field(struct parse *ps, const char *w, size_t n)
{
	struct rtest *t = &ps->r->main;
	char buf[80];

	if (field_word(w, &t->field, &t->name) && main_field_ok(ps->r->stage, t->field)) {
		/* field_word set it */
	} else if (ps->r->stage == STAGE_HEADER && t->field != RF_MACRO) {
		free(t->name);
		t->field = RF_HEADER;
		if ((t->name = strndup(w, w[n - 1] == ':' ? n - 1 : n)) == NULL)
			return fail(ps, "out of memory");
		if (t->name[0] == '\0' || strchr(t->name, ':') != NULL)
			return fail(ps, "bad header name \"%s\"", shown(w, buf, sizeof(buf)));
	} else {
		return fail(ps, "%s rules have no field \"%s\" (fields: %s)", stage_name(ps->r->stage),
		    shown(w, buf, sizeof(buf)), fields_of(ps->r->stage));
	}
	advance(ps, n);
	if (!starts_pattern(ps->p))
		return fail(ps, "expected a /pattern/ after the field \"%s\"", shown(w, buf, sizeof(buf)));
	return parse_pattern(ps, t);
}

static bool
parse_main(struct parse *ps)
{
	char w[256];
	size_t n;

	if (starts_pattern(ps->p)) {
		if ((ps->r->main.field = default_field(ps->r->stage)) == RF_NONE)
			return fail(ps, "%s rules need a field before the pattern (%s)", stage_name(ps->r->stage),
			    fields_of(ps->r->stage));
		return parse_pattern(ps, &ps->r->main);
	}
	n = peek(ps, w, sizeof(w));
	if (n == 0 || n >= sizeof(w) || strcmp(w, "if") == 0 || is_action(w))
		return true; /* no main test */
	return parse_main_field(ps, w, n);
}

/* ---- conditions ---- */

static bool
parse_test(struct parse *ps, struct rtest *t)
{
	char w[64], buf[80];
	size_t n = peek(ps, w, sizeof(w));
	int fact;

	if (n == 0)
		return fail(ps, "missing condition after \"if\" or \"and\"");
	if (n < sizeof(w) && (fact = fact_word(w[0] == '!' ? w + 1 : w)) >= 0) {
		t->is_fact = true;
		t->negate = w[0] == '!';
		t->fact = (enum rfact)fact;
		advance(ps, n);
		return true;
	}
	if (n < sizeof(w) && w[0] == '!' && field_word(w + 1, &t->field, &t->name))
		return fail(ps, "write the ! before the pattern: %s !/.../", w + 1);
	if (n >= sizeof(w) || !field_word(w, &t->field, &t->name))
		return fail(ps, "unknown condition \"%s\" (facts: trusted, authenticated, internal, may_relay, "
				"null_sender, local_rcpt, external_rcpt; fields: addr, name, helo, sender, rcpt, "
				"{macro})",
		    shown(w, buf, sizeof(buf)));
	advance(ps, n);
	if (!starts_pattern(ps->p))
		return fail(ps, "expected a /pattern/ after the condition field \"%s\"", w);
	return parse_pattern(ps, t);
}

static bool
parse_conditions(struct parse *ps)
{
	char w[8];
	size_t n = peek(ps, w, sizeof(w));

	if (n != 2 || strcmp(w, "if") != 0)
		return true;
	advance(ps, n);
	for (;;) {
		struct rtest *c = realloc(ps->r->conds, (ps->r->nconds + 1) * sizeof(*c));

		if (c == NULL)
			return fail(ps, "out of memory");
		ps->r->conds = c;
		memset(&c[ps->r->nconds], 0, sizeof(*c));
		if (!parse_test(ps, &c[ps->r->nconds++]))
			return false;
		n = peek(ps, w, sizeof(w));
		if (n != 3 || strcmp(w, "and") != 0)
			return true;
		advance(ps, n);
	}
}

/* ---- actions ---- */

/* $N, ${N} and $$ in TEXT: every N must be a capture of the main pattern. */
static bool
check_dollars(struct parse *ps, const char *text)
{
	const struct rtest *m = &ps->r->main;
	const char *p;

	for (p = text; (p = strchr(p, '$')) != NULL; p++) {
		unsigned long n;
		char *end;

		if (p[1] == '$') {
			p++;
			continue;
		}
		if (isdigit((unsigned char)p[1])) {
			n = (unsigned long)(p[1] - '0');
			p++;
		} else if (p[1] == '{' && isdigit((unsigned char)p[2]) &&
			   (n = strtoul(p + 2, &end, 10), *end == '}')) {
			p = end;
		} else {
			return fail(ps, "lone $ in the text (write $$ for a dollar sign, $1 for a capture)");
		}
		if (n == 0)
			return fail(ps, "captures are numbered from $1");
		if (m->re == NULL)
			return fail(ps, "$%lu in the text, but the rule has no pattern to capture from", n);
		if (m->negate)
			return fail(ps, "$%lu in the text, but the pattern is negated and captures nothing", n);
		if (n > m->ncaptures)
			return fail(ps, "$%lu in the text, but the pattern has %u capture group%s", n,
			    m->ncaptures, m->ncaptures == 1 ? "" : "s");
	}
	return true;
}

/* A text for WARN, QUARANTINE, PREPEND, DISCARD: the rules of a reply text (reply.h). */
static bool
check_text(struct parse *ps, const char *what, const char *text)
{
	char buf[CAP_REPLY_TEXT + 16], err[200];
	struct reply_tmpl t;

	if (*text == '\0')
		return fail(ps, "%s needs a text", what);
	if ((size_t)snprintf(buf, sizeof(buf), "550 5.0.0 %s", text) >= sizeof(buf))
		return fail(ps, "%s: text longer than %d bytes", what, CAP_REPLY_TEXT - 1);
	if (!reply_parse(buf, 0, &t, err, sizeof(err)))
		return fail(ps, "%s: %s", what, err);
	return check_dollars(ps, text);
}

static bool
is_xcode(const char *w)
{
	return isdigit((unsigned char)w[0]) && w[1] == '.';
}

/*
 * REJECT / DEFER / TEMPFAIL [CODE [X.Y.Z]] TEXT and bare CODE [X.Y.Z] TEXT
 * (KW NULL).  A missing code is 550 (REJECT) or 450; a missing enhanced
 * code is X.7.1 of the code's class (Postfix access(5) does the same).
 */
static bool
parse_refusal(struct parse *ps, const char *kw)
{
	char code[16] = "", xcode[16] = "", buf[CAP_REPLY_TEXT + 40], err[200];
	bool reject = kw == NULL || str_ieq(kw, "REJECT");
	size_t n = peek(ps, code, sizeof(code));

	if (n > 0 && n < sizeof(code) && all_digits(code)) {
		advance(ps, n);
		n = peek(ps, xcode, sizeof(xcode));
		if (n > 0 && n < sizeof(xcode) && is_xcode(xcode))
			advance(ps, n);
		else
			xcode[0] = '\0';
	} else {
		snprintf(code, sizeof(code), "%s", reject ? "550" : "450");
	}
	if (kw != NULL && reject && code[0] == '4' && strlen(code) == 3)
		return fail(ps, "REJECT takes a 5xx code; %s is temporary (use DEFER)", code);
	if (kw != NULL && !reject && code[0] == '5' && strlen(code) == 3)
		return fail(ps, "%s takes a 4xx code; %s is permanent (use REJECT)", kw, code);
	if (xcode[0] == '\0' && (code[0] == '4' || code[0] == '5'))
		snprintf(xcode, sizeof(xcode), "%c.7.1", code[0]);
	if ((size_t)snprintf(buf, sizeof(buf), "%s %s %s", code, xcode, ps->p) >= sizeof(buf))
		return fail(ps, "reply text longer than %d bytes", CAP_REPLY_TEXT - 1);
	if (!reply_parse(buf, 0, &ps->r->reply, err, sizeof(err))) {
		if (kw != NULL)
			return fail(ps, "%s: %s", kw, err);
		return fail(ps, "%s", err);
	}
	ps->r->action = RA_REFUSE;
	return check_dollars(ps, ps->r->reply.text);
}

static bool
parse_prepend(struct parse *ps)
{
	const char *colon = strchr(ps->p, ':'), *v, *q;

	if (colon == NULL || colon == ps->p)
		return fail(ps, "PREPEND needs \"Header-Name: value\"");
	for (q = ps->p; q < colon; q++) {
		/* RFC 5322 2.2: printable ASCII except the colon; captures only in the value. */
		if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e || *q == '$')
			return fail(ps, "PREPEND: bad header name \"%.*s\"", (int)(colon - ps->p), ps->p);
	}
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if ((ps->r->hname = strndup(ps->p, (size_t)(colon - ps->p))) == NULL ||
	    (ps->r->text = strdup(v)) == NULL)
		return fail(ps, "out of memory");
	if (*v != '\0' && !check_text(ps, "PREPEND", v))
		return false;
	ps->r->action = RA_PREPEND;
	return true;
}

static bool
parse_skip(struct parse *ps)
{
	char *copy = strdup(ps->p), *p = copy, *name;
	bool ok = true;

	if (copy == NULL)
		return fail(ps, "out of memory");
	ps->r->action = RA_SKIP;
	while (ok && (name = strsep(&p, ", \t")) != NULL) {
		enum check_id id;

		if (*name == '\0')
			continue;
		if (!check_by_name(name, &id))
			ok = fail(ps, "SKIP: no check named \"%.40s\"", name);
		else if (id == CHK_RELAY)
			ok = fail(ps, "SKIP: relay cannot be skipped; RELAY grants relaying, by client or recipient "
				      "only (RFC 2505 2.1)");
		else if (!check_skippable(id))
			ok = fail(ps, "SKIP: %s cannot be skipped", name);
		else
			ps->r->skip |= 1UL << id;
	}
	free(copy);
	if (ok && ps->r->skip == 0)
		ok = fail(ps, "SKIP needs check names (rdns, helo, spf, ...)");
	return ok;
}

static bool
parse_action(struct parse *ps)
{
	char w[32], buf[80];
	size_t n = peek(ps, w, sizeof(w));
	int a;

	if (n == 0)
		return fail(ps, "missing action");
	if (n < sizeof(w) && all_digits(w))
		return parse_refusal(ps, NULL);
	if (n >= sizeof(w) || (a = action_word(w)) == -1)
		return fail(ps, "unknown action \"%s\" (actions: OK, DUNNO, REJECT, DEFER, TEMPFAIL, 4NN, 5NN, "
				"DISCARD, TURF, QUARANTINE, PREPEND, WARN, RELAY, SKIP)",
		    shown(w, buf, sizeof(buf)));
	advance(ps, n);
	switch (a) {
	case RA_REFUSE:
		return parse_refusal(ps, w);
	case RA_PREPEND:
		return parse_prepend(ps);
	case RA_SKIP:
		return parse_skip(ps);
	case RA_WARN:
	case RA_QUARANTINE:
		ps->r->action = (enum raction)a;
		return check_text(ps, action_names[a], ps->p) && (ps->r->text = strdup(ps->p)) != NULL;
	case RA_DISCARD:
	case RA_TURF:
		ps->r->action = (enum raction)a;
		if (*ps->p == '\0')
			return true;
		return check_text(ps, action_names[a], ps->p) && (ps->r->text = strdup(ps->p)) != NULL;
	default:
		ps->r->action = (enum raction)a;
		if (*ps->p != '\0')
			return fail(ps, "%s takes no text", action_names[a]);
		return true;
	}
}

/* ---- whole-rule checks ---- */

static enum stage
known_from(const struct rtest *t, const char **what, const char **with)
{
	if (t->is_fact && t->fact == RFACT_NULL_SENDER)
		return *what = "null_sender", *with = "MAIL", STAGE_MAIL;
	if (t->is_fact && (t->fact == RFACT_LOCAL_RCPT || t->fact == RFACT_EXTERNAL_RCPT))
		return *what = fact_names[t->fact], *with = "RCPT", STAGE_RCPT;
	if (!t->is_fact && t->field == RF_HELO)
		return *what = "helo", *with = "HELO", STAGE_HELO;
	if (!t->is_fact && t->field == RF_SENDER)
		return *what = "sender", *with = "MAIL", STAGE_MAIL;
	if (!t->is_fact && t->field == RF_RCPT)
		return *what = "rcpt", *with = "RCPT", STAGE_RCPT;
	return STAGE_CONNECT;
}

/* May a RELAY rule depend on T?  Not on HELO or the sender (RFC 2505 2.1). */
static const char *
relay_forbidden(const struct rtest *t)
{
	size_t i;

	if (t->is_fact)
		return t->fact == RFACT_NULL_SENDER ? "null_sender" : NULL;
	if (t->field == RF_HELO)
		return "helo";
	if (t->field == RF_SENDER)
		return "sender";
	for (i = 0; t->field == RF_MACRO && sender_macros[i] != NULL; i++)
		if (strcmp(t->name, sender_macros[i]) == 0)
			return t->name;
	return NULL;
}

static bool
check_rule(struct parse *ps)
{
	struct rule *r = ps->r;
	const char *what, *with, *bad;
	size_t i;

	for (i = 0; i < r->nconds; i++) {
		if (known_from(&r->conds[i], &what, &with) > r->stage)
			return fail(ps, "%s is not known yet at %s (it comes with %s)", what, stage_name(r->stage),
			    with);
	}
	if (r->action != RA_RELAY)
		return true;
	if (r->stage != STAGE_CONNECT && r->stage != STAGE_RCPT)
		return fail(ps, "RELAY is allowed at connect and rcpt only (RFC 2505 2.1: relaying is "
				"decided on the client and the recipient, never on HELO or MAIL FROM)");
	for (i = 0; i < r->nconds; i++)
		if ((bad = relay_forbidden(&r->conds[i])) != NULL)
			return fail(ps, "RELAY may not depend on %s (RFC 2505 2.1: relaying is decided on the "
					"client and the recipient only)",
			    bad);
	if ((bad = relay_forbidden(&r->main)) != NULL)
		return fail(ps, "RELAY may not depend on %s (RFC 2505 2.1)", bad);
	return true;
}

bool
ruleparse_line(const char *line, const char *file, const char *idfile, unsigned lineno,
    pcre2_compile_context *cc, struct rule *r, struct diag *d)
{
	struct parse ps = {.p = line, .r = r, .cc = cc};
	char id[CAP_DECIDER];
	bool ok;

	r->line = lineno;
	skip_ws(&ps);
	ok = parse_name(&ps) && parse_stage(&ps) && parse_main(&ps) && parse_conditions(&ps) &&
	     parse_action(&ps) && check_rule(&ps);
	if (ok && (r->file = strdup(file)) == NULL)
		ok = fail(&ps, "out of memory");
	if (ok && r->id == NULL) {
		snprintf(id, sizeof(id), "%s:%u", idfile, lineno);
		if ((r->id = strdup(id)) == NULL)
			ok = fail(&ps, "out of memory");
	}
	if (!ok) {
		if (ps.err[0] == '\0')
			snprintf(ps.err, sizeof(ps.err), "out of memory");
		diag_error(d, file, lineno, "%s", ps.err);
		ruleparse_free(r);
	}
	return ok;
}

static void
test_free(struct rtest *t)
{
	free(t->name);
	free(t->source);
	pcre2_code_free(t->re);
}

void
ruleparse_free(struct rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->id);
	free(r->file);
	test_free(&r->main);
	for (i = 0; i < r->nconds; i++)
		test_free(&r->conds[i]);
	free(r->conds);
	free(r->text);
	free(r->hname);
	memset(r, 0, sizeof(*r));
}
