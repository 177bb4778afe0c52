/*
 * ruleeval.c - matching the rule set against each event (see ruleeval.h);
 * ruleact.c carries out what the matched rule says.
 *
 * Per event: every slot of the stage that applies (ruleset_priv.h)
 * scans its field once with its prefilter and adds its always-tried
 * rules; the candidates, deduplicated and sorted by index, are tried in
 * order until one matches.  Facts are tested before patterns (they cost
 * nothing), the main pattern before condition patterns.
 *
 * Thread-safety: the rule set is read-only; per-thread PCRE2 match data
 * and JIT stack, and the candidate arrays, live in thread-specific data
 * created on first use and freed when the thread exits (libmilter's
 * worker threads come and go).
 */
#include "autoconf.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "ruleeval_priv.h"
#include "strbuf.h"

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (512 * 1024)	/* LIBRARIES 4: one per thread, 512 KiB - 1 MiB */
#define HEAP_LIMIT_KIB (10 * 1024)	/* the interpreter's backtracking memory */

enum mres { M_NO = 0, M_YES, M_ERROR };

/* Per-thread matching state. */
struct tls {
	pcre2_match_data *md;
	pcre2_jit_stack *js;
	uint32_t *mark;		/* mark[rule] == gen: already a candidate */
	uint32_t *cand;
	size_t cap;		/* entries of mark and cand */
	size_t ncand;
	uint32_t gen;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void
tls_destroy(void *p)
{
	struct tls *t = p;

	pcre2_match_data_free(t->md);
	pcre2_jit_stack_free(t->js);
	free(t->mark);
	free(t->cand);
	free(t);
}

static void
tls_create_key(void)
{
	(void)pthread_key_create(&tls_key, tls_destroy);
}

/* This thread's state, with room for NRULES candidates; NULL when out of memory. */
static struct tls *
tls_get(size_t nrules)
{
	struct tls *t;

	pthread_once(&tls_once, tls_create_key);
	if ((t = pthread_getspecific(tls_key)) == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return NULL;
		t->md = pcre2_match_data_create(OVEC_PAIRS, NULL);
		t->js = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
		if (t->md == NULL || pthread_setspecific(tls_key, t) != 0) {
			tls_destroy(t);
			return NULL;
		}
	}
	if (t->cap < nrules) {
		uint32_t *m = realloc(t->mark, nrules * sizeof(*m)), *c;

		if (m == NULL)
			return NULL;
		t->mark = m;
		if ((c = realloc(t->cand, nrules * sizeof(*c))) == NULL)
			return NULL;
		t->cand = c;
		memset(t->mark + t->cap, 0, (nrules - t->cap) * sizeof(*m));
		t->cap = nrules;
	}
	return t;
}

/* PCRE2 asks for the JIT stack of the thread that matches. */
static pcre2_jit_stack *
jit_stack(void *data)
{
	struct tls *t = pthread_getspecific(tls_key);

	(void)data;
	return t ? t->js : NULL; /* NULL: PCRE2's 32 KiB machine stack */
}

pcre2_match_context *
ruleeval_match_context(long match_limit)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);

	if (mc == NULL)
		return NULL;
	pthread_once(&tls_once, tls_create_key);
	pcre2_set_match_limit(mc, (uint32_t)match_limit);
	pcre2_set_depth_limit(mc, (uint32_t)match_limit);
	pcre2_set_heap_limit(mc, HEAP_LIMIT_KIB);
	pcre2_jit_stack_assign(mc, jit_stack, NULL);
	return mc;
}

/* ---- the values patterns read ---- */

/* PATH without blanks and one pair of angle brackets; "<>" for the null path. */
static void
bare(const char *path, char *out, size_t size)
{
	addr_bare(path, out, size);
	if (out[0] == '\0')
		str_copy(out, size, "<>");
}

static const char *
header_line(struct event *ev)
{
	struct strbuf sb;

	if (!ev->hline_built) {
		strbuf_init(&sb, ev->hline, CAP_RULE_HEADER + 1);
		strbuf_add(&sb, ev->s->cur_hdr_name);
		strbuf_add(&sb, ": ");
		strbuf_add(&sb, ev->s->cur_hdr_value);
		ev->hlinelen = sb.len;
		ev->hline_built = true;
	}
	return ev->hline;
}

/*
 * Value number WHICH of field F (RF_CLIENT has two: name, address; rcpt
 * after RCPT one per recipient) into *P, *LEN, using BUF when it has to
 * be made.  False past the last value.
 */
static bool
field_value(struct event *ev, enum rfield f, const char *name, size_t which, char *buf, size_t size,
    const unsigned char **p, size_t *len)
{
	struct session *s = ev->s;
	const char *v;

	if (which > 0 && f != RF_CLIENT && !(f == RF_RCPT && ev->stage != STAGE_RCPT))
		return false;
	switch (f) {
	case RF_CLIENT:
		if (which > 1)
			return false;
		v = which == 0 ? (s->client_name[0] ? s->client_name : "unknown") : s->client_addr;
		break;
	case RF_ADDR: v = s->client_addr; break;
	case RF_NAME: v = s->client_name[0] ? s->client_name : "unknown"; break;
	case RF_HELO: v = s->helo; break;
	case RF_SENDER: bare(s->sender, buf, size); v = buf; break;
	case RF_RCPT:
		if (ev->stage == STAGE_RCPT)
			bare(s->cur_rcpt ? s->cur_rcpt : "", buf, size);
		else if (which < s->nrcpts)
			bare(s->rcpts[which].raw, buf, size);
		else
			return false;
		v = buf;
		break;
	case RF_MACRO: v = session_macro(s, name); v = v ? v : ""; break;
	case RF_HEADER: v = s->cur_hdr_value; break;
	case RF_HEADER_LINE:
		*p = (const unsigned char *)header_line(ev);
		*len = ev->hlinelen;
		return true;
	case RF_BODY:
		*p = ev->line;
		*len = ev->linelen;
		return true;
	default:
		return false;
	}
	*p = (const unsigned char *)v;
	*len = strnlen(v, CAP_RULE_HEADER);
	return true;
}

/* ---- tests ---- */

static bool
fact(const struct event *ev, enum rfact f)
{
	const struct session *s = ev->s;
	size_t i, local = 0;

	switch (f) {
	case RFACT_TRUSTED: return session_is_trusted(s);
	case RFACT_AUTHENTICATED: return session_is_authenticated(s);
	case RFACT_INTERNAL: return session_is_internal(s);
	case RFACT_MAY_RELAY: return session_may_relay(s);
	case RFACT_NULL_SENDER: return s->have_sender && (s->sender_addr.flags & ADDR_NULL);
	default: break;
	}
	if (ev->stage == STAGE_RCPT) {
		bool l = relay_rcpt_is_local(s, &s->cur_rcpt_addr);

		return f == RFACT_LOCAL_RCPT ? l : !l;
	}
	for (i = 0; i < s->nrcpts; i++)
		if (s->rcpts[i].flags & RCPT_LOCAL)
			local++;
	/* After RCPT both are "every recipient": a mixed message is neither. */
	return s->nrcpts > 0 && (f == RFACT_LOCAL_RCPT ? local == s->nrcpts : local == 0);
}

/* Keep the captures of a match of the main pattern (for $1 in the text). */
static void
keep_captures(struct event *ev, const unsigned char *p, size_t len, const char *buf, int rc)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ev->t->md);
	uint32_t n = rc == 0 ? OVEC_PAIRS : (uint32_t)rc;

	if (n > OVEC_PAIRS)
		n = OVEC_PAIRS;
	if (p == (const unsigned char *)buf) {
		memcpy(ev->subjbuf, buf, len + 1);
		p = (const unsigned char *)ev->subjbuf;
	}
	memcpy(ev->ovec, ov, 2 * n * sizeof(*ov));
	ev->npairs = n;
	ev->subj = p;
	ev->subjlen = len;
}

static enum mres
test_pattern(struct event *ev, const struct rtest *t, bool capture)
{
	char buf[CAP_ADDR_LEN + 8];
	const unsigned char *p;
	size_t len, which;
	bool matched = false;

	for (which = 0; !matched && field_value(ev, t->field, t->name, which, buf, sizeof(buf), &p, &len);
	     which++) {
		int rc = pcre2_match(t->re, p, len, 0, 0, ev->t->md, ev->rs->mc);

		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			ev->err = rc; /* match/depth/heap limit, JIT stack: not "no match" */
			return M_ERROR;
		}
		matched = true;
		if (capture && !t->negate)
			keep_captures(ev, p, len, buf, rc);
	}
	return matched != t->negate ? M_YES : M_NO;
}

static enum mres
rule_match(struct event *ev, const struct rule *r)
{
	enum mres m;
	size_t i;

	for (i = 0; i < r->nconds; i++)
		if (r->conds[i].is_fact && fact(ev, r->conds[i].fact) == r->conds[i].negate)
			return M_NO;
	ev->npairs = 0;
	if (r->main.re != NULL && (m = test_pattern(ev, &r->main, true)) != M_YES)
		return m;
	for (i = 0; i < r->nconds; i++)
		if (!r->conds[i].is_fact && (m = test_pattern(ev, &r->conds[i], false)) != M_YES)
			return m;
	return M_YES;
}

/* ---- candidates ---- */

static void
hit(uint32_t id, void *arg)
{
	struct tls *t = arg;

	if (t->mark[id] != t->gen) {
		t->mark[id] = t->gen;
		t->cand[t->ncand++] = id;
	}
}

static int
cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
sort_ids(uint32_t *v, size_t n)
{
	size_t i, j;

	if (n > 16) {
		qsort(v, n, sizeof(*v), cmp_id);
		return;
	}
	for (i = 1; i < n; i++) {
		uint32_t x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void
scan_slot(struct event *ev, const struct rslot *sl)
{
	char buf[CAP_ADDR_LEN + 8];
	const unsigned char *p;
	size_t k, len;

	if (sl->field == RF_HEADER && !str_ieq(sl->name, ev->s->cur_hdr_name))
		return;
	for (k = 0; k < sl->nalways; k++)
		hit(sl->always[k], ev->t);
	if (sl->pf == NULL)
		return;
	for (k = 0; field_value(ev, sl->field, sl->name, k, buf, sizeof(buf), &p, &len); k++)
		prefilter_scan(sl->pf, p, len, hit, ev->t);
}

/* Find the first rule of EV->stage that matches: M_YES or M_ERROR with EV->rule set. */
static enum mres
evaluate(struct event *ev)
{
	const struct ruleset *rs = ev->rs;
	struct tls *t = ev->t;
	size_t k, end = rs->first[ev->stage] + rs->count[ev->stage];

	if (++t->gen == 0) {
		memset(t->mark, 0, t->cap * sizeof(*t->mark));
		t->gen = 1;
	}
	t->ncand = 0;
	for (k = rs->first[ev->stage]; k < end; k++)
		scan_slot(ev, &rs->slots[k]);
	sort_ids(t->cand, t->ncand);
	for (k = 0; k < t->ncand; k++) {
		const struct rule *r = &rs->rules[t->cand[k]];
		enum mres m = rule_match(ev, r);

		if (m != M_NO) {
			ev->rule = r;
			return m;
		}
	}
	return M_NO;
}

/* ---- stages ---- */

static enum check_res
out_of_memory(struct session *s, struct verdict *v)
{
	session_refuse(s, v, &s->cfg->rules_error_reply, "rules", "out of memory");
	return CHECK_DONE;
}

/* Set up EV for STAGE; false when there is nothing to do or no memory (then *RES says). */
static bool
event_init(struct session *s, enum stage stage, struct event *ev, struct verdict *v, enum check_res *res)
{
	const struct ruleset *rs = s->snap->rules;

	*res = CHECK_NEXT;
	if (rs == NULL || rs->count[stage] == 0)
		return false;
	if (s->rules == NULL && (s->rules = calloc(1, sizeof(*s->rules))) == NULL)
		return *res = out_of_memory(s, v), false;
	if (ruleact_rules_off(s->rules))
		return false;
	memset(ev, 0, offsetof(struct event, subjbuf));
	ev->s = s;
	ev->rs = rs;
	ev->stage = stage;
	if ((ev->t = tls_get(rs->nrules)) == NULL)
		return *res = out_of_memory(s, v), false;
	return true;
}

/* Run the rules of STAGE once on the event EV describes. */
static enum check_res
run(struct event *ev, struct verdict *v)
{
	switch (evaluate(ev)) {
	case M_NO: return CHECK_NEXT;
	case M_ERROR: return ruleact_error(ev, v);
	default: return ruleact_apply(ev, v);
	}
}

static enum check_res
run_stage(struct session *s, enum stage stage, struct verdict *v)
{
	struct event ev;
	enum check_res res;

	if (!event_init(s, stage, &ev, v, &res))
		return res;
	return run(&ev, v);
}

enum check_res
ruleeval_connect(struct session *s, struct verdict *v)
{
	return run_stage(s, STAGE_CONNECT, v);
}

enum check_res
ruleeval_helo(struct session *s, struct verdict *v)
{
	/* A new HELO replaces what the rules said about the last one. */
	if (s->rules != NULL) {
		ruleact_clear(&s->rules->sc[SC_HELO]);
		ruleact_recompute(s);
	}
	return run_stage(s, STAGE_HELO, v);
}

enum check_res
ruleeval_mail(struct session *s, struct verdict *v)
{
	if (s->rules != NULL && !ruleact_message_start(s))
		return out_of_memory(s, v);
	return run_stage(s, STAGE_MAIL, v);
}

enum check_res
ruleeval_rcpt(struct session *s, struct verdict *v)
{
	/* Known before the relay check runs, so local_rcpt holds for a recipient a rule decides. */
	if (relay_rcpt_is_local(s, &s->cur_rcpt_addr))
		s->cur_rcpt_flags |= RCPT_LOCAL;
	if (s->rules != NULL && ruleact_pending(s, v) == CHECK_DONE)
		return CHECK_DONE;
	return run_stage(s, STAGE_RCPT, v);
}

enum check_res
ruleeval_header(struct session *s, struct verdict *v)
{
	char hline[CAP_RULE_HEADER + 1];
	struct event ev;
	enum check_res res;

	if (!event_init(s, STAGE_HEADER, &ev, v, &res))
		return res;
	ev.hline = hline;
	return run(&ev, v);
}

/*
 * The first decision within one event goes into V; a further one (a
 * second body line that matches a WARN within the same chunk) is logged
 * on its own through decide_also.
 */
struct collect {
	struct verdict first;
	bool have;
};

static void
collect(struct session *s, struct collect *c, struct verdict *tv)
{
	if (tv->action == ACT_CONTINUE && !tv->note)
		return; /* DUNNO, or nothing */
	if (!c->have) {
		c->first = *tv;
		c->have = true;
	} else {
		decide_also(s, tv);
	}
}

/* A final decision TV: report what was collected before it, then TV is the verdict. */
static enum check_res
collect_final(struct session *s, struct collect *c, struct verdict *v, const struct verdict *tv)
{
	if (c->have)
		decide_also(s, &c->first);
	*v = *tv;
	return CHECK_DONE;
}

static enum check_res
collect_end(struct collect *c, struct verdict *v)
{
	if (c->have)
		*v = c->first;
	return CHECK_NEXT;
}

/* One assembled body line through the body rules. */
static enum check_res
body_line(struct session *s, struct collect *c, struct verdict *v)
{
	struct rulestate *st = s->rules;
	struct verdict tv;
	struct event ev;
	enum check_res res;
	enum mres m;

	if (!event_init(s, STAGE_BODY, &ev, v, &res))
		return res;
	ev.line = st->line;
	ev.linelen = st->linelen;
	if (ev.linelen > 0 && ev.line[ev.linelen - 1] == '\r')
		ev.linelen--;
	st->linelen = 0;
	if ((m = evaluate(&ev)) == M_NO)
		return CHECK_NEXT; /* the common case: no verdict to build */
	verdict_clear(&tv);
	res = m == M_ERROR ? ruleact_error(&ev, &tv) : ruleact_apply(&ev, &tv);
	if (res == CHECK_DONE)
		return collect_final(s, c, v, &tv);
	collect(s, c, &tv);
	return CHECK_NEXT;
}

/* Append N bytes of P to the line being assembled; full lines go through the rules. */
static enum check_res
body_bytes(struct session *s, const unsigned char *p, size_t n, bool eol, struct collect *c,
    struct verdict *v)
{
	struct rulestate *st = s->rules;

	while (n > 0) {
		size_t room = CAP_RULE_BODY_LINE - st->linelen, take = n < room ? n : room;

		memcpy(st->line + st->linelen, p, take);
		st->linelen += take;
		p += take;
		n -= take;
		if (st->linelen == CAP_RULE_BODY_LINE && body_line(s, c, v) == CHECK_DONE)
			return CHECK_DONE; /* a long line, in pieces */
	}
	if (eol)
		return body_line(s, c, v);
	return CHECK_NEXT;
}

enum check_res
ruleeval_body(struct session *s, struct verdict *v)
{
	const struct ruleset *rs = s->snap->rules;
	const unsigned char *p = s->cur_body, *nl;
	struct collect c = {.have = false};
	struct rulestate *st;
	size_t n;

	if (rs == NULL || rs->count[STAGE_BODY] == 0)
		return CHECK_NEXT;
	if (s->rules == NULL && (s->rules = calloc(1, sizeof(*s->rules))) == NULL)
		return out_of_memory(s, v);
	st = s->rules;
	if (st->line == NULL && (st->line = malloc(CAP_RULE_BODY_LINE)) == NULL)
		return out_of_memory(s, v);
	n = s->cur_body_len;
	if (st->body_seen >= s->cfg->rules_body_limit)
		return CHECK_NEXT;
	if ((long)n > s->cfg->rules_body_limit - st->body_seen)
		n = (size_t)(s->cfg->rules_body_limit - st->body_seen);
	st->body_seen += (long)n;
	while (n > 0 && !ruleact_rules_off(st)) {
		size_t len = (nl = memchr(p, '\n', n)) ? (size_t)(nl - p) : n;

		if (body_bytes(s, p, len, nl != NULL, &c, v) == CHECK_DONE)
			return CHECK_DONE;
		len += nl != NULL;
		p += len;
		n -= len;
	}
	return collect_end(&c, v);
}

enum check_res
ruleeval_eom(struct session *s, struct verdict *v)
{
	const struct ruleset *rs = s->snap->rules;
	struct collect c = {.have = false};
	struct verdict tv;
	struct event ev;
	enum check_res res;

	if (s->rules == NULL && (rs == NULL || rs->count[STAGE_EOM] == 0))
		return CHECK_NEXT;
	if (s->rules != NULL && s->rules->linelen > 0 && !ruleact_rules_off(s->rules) &&
	    body_line(s, &c, v) == CHECK_DONE)
		return CHECK_DONE; /* the last body line had no line end */
	verdict_clear(&tv);
	if (event_init(s, STAGE_EOM, &ev, &tv, &res))
		res = run(&ev, &tv);
	if (res == CHECK_DONE)
		return collect_final(s, &c, v, &tv);
	collect(s, &c, &tv);
	verdict_clear(&tv);
	if (s->rules != NULL && ruleact_finish_message(s, &tv) == CHECK_DONE)
		return collect_final(s, &c, v, &tv);
	collect(s, &c, &tv);
	return collect_end(&c, v);
}

bool
ruleeval_body_wanted(const struct session *s)
{
	const struct ruleset *rs = s->snap->rules;

	if (rs == NULL || rs->count[STAGE_BODY] == 0)
		return false;
	if (s->rules == NULL)
		return true;
	return !ruleact_rules_off(s->rules) && s->rules->body_seen < s->cfg->rules_body_limit;
}

void
ruleeval_message_reset(struct session *s)
{
	struct rulestate *st = s->rules;

	if (st == NULL)
		return;
	ruleact_clear(&st->sc[SC_MSG]);
	ruleact_clear(&st->sc[SC_RCPT]);
	st->linelen = 0;
	st->body_seen = 0;
	ruleact_recompute(s);
}

void
ruleeval_rcpt_done(struct session *s)
{
	if (s->rules == NULL)
		return;
	ruleact_clear(&s->rules->sc[SC_RCPT]);
	ruleact_recompute(s);
}

void
ruleeval_free(struct rulestate *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < SC_COUNT; i++)
		ruleact_clear(&st->sc[i]);
	free(st->line);
	free(st);
}
