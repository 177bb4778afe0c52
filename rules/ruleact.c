/*
 * ruleact.c - what a matched rule does (see ruleeval.h for the scopes and
 * where rules run; relayguard.rules(5) for the actions).
 *
 * Refusals decided at connect, helo or mail are kept and given at each
 * RCPT (DESIGN: checks before RCPT are delayed to RCPT), after the
 * postmaster exemption.  Refusals and DISCARD decided on the content of a
 * message whose every recipient is exempt are not applied, for the same
 * reason: postmaster stays reachable whatever a rule says.  Monitor mode
 * (mode = monitor, monitor_checks) turns refusals, DISCARD and QUARANTINE
 * into log lines; PREPEND and WARN still happen (they only annotate).
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleeval_priv.h"
#include "ruleparse.h"
#include "strbuf.h"

/* The checks OK skips: those that judge whether mail is wanted (ruleeval.h "Scopes"). */
#define OK_SKIPS \
	((1UL << CHK_RDNS) | (1UL << CHK_HELO) | (1UL << CHK_SPF) | (1UL << CHK_SENDER_DOMAIN) | \
	    (1UL << CHK_CLIENTS))

static const char *const scope_words[SC_COUNT] = {
	"the connection", "this HELO", "the message", "this recipient",
};

enum scope
ruleact_scope(enum stage st)
{
	switch (st) {
	case STAGE_CONNECT: return SC_CONN;
	case STAGE_HELO: return SC_HELO;
	case STAGE_RCPT: return SC_RCPT;
	default: return SC_MSG;
	}
}

void
ruleact_clear(struct scope_state *ss)
{
	size_t i;

	if (!ss->used)
		return; /* the common case: nothing was decided in this scope */
	for (i = 0; i < ss->nhdrs; i++) {
		free(ss->hdrs[i].name);
		free(ss->hdrs[i].value);
	}
	free(ss->hdrs);
	free(ss->quarantine);
	memset(ss, 0, sizeof(*ss));
}

void
ruleact_recompute(struct session *s)
{
	const struct rulestate *st = s->rules;
	int i;

	s->skip = 0;
	s->rule_relay = false;
	for (i = 0; i < SC_COUNT; i++) {
		s->skip |= st->sc[i].skip;
		s->rule_relay = s->rule_relay || st->sc[i].relay;
	}
}

bool
ruleact_rules_off(const struct rulestate *st)
{
	int i;

	for (i = 0; i < SC_COUNT; i++)
		if (st->sc[i].rules_off)
			return true;
	return false;
}

/* ---- texts ---- */

/* Append LEN bytes of a capture: printable, % doubled (the text is expanded again later). */
static void
add_capture(struct strbuf *sb, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < CAP_RULE_CAPTURE; i++) {
		if (p[i] == '%')
			strbuf_add(sb, "%%");
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			strbuf_addc(sb, (char)p[i]);
		else
			strbuf_addf(sb, "\\x%02x", p[i]);
	}
	if (len > CAP_RULE_CAPTURE)
		strbuf_add(sb, "...");
}

/* TEXT with $N, ${N} and $$ replaced (ruleparse checked every N). */
static void
expand_captures(const struct event *ev, const char *text, char *out, size_t size)
{
	struct strbuf sb;
	const char *p;

	strbuf_init(&sb, out, size);
	for (p = text; *p != '\0'; p++) {
		unsigned long n;
		char *end;

		if (*p != '$') {
			strbuf_addc(&sb, *p);
			continue;
		}
		if (p[1] == '$') {
			strbuf_addc(&sb, '$');
			p++;
			continue;
		}
		if (p[1] == '{') {
			n = strtoul(p + 2, &end, 10);
			p = end;
		} else {
			n = (unsigned long)(*++p - '0');
		}
		if (n < ev->npairs && ev->ovec[2 * n] != PCRE2_UNSET)
			add_capture(&sb, ev->subj + ev->ovec[2 * n], ev->ovec[2 * n + 1] - ev->ovec[2 * n]);
	}
}

/* A text of the rule with captures and %{name} references expanded. */
static void
rule_text(struct event *ev, const char *text, char *out, size_t size)
{
	char tmp[CAP_REPLY_TEXT];

	expand_captures(ev, text, tmp, sizeof(tmp));
	session_expand(ev->s, tmp, out, size);
}

/* A "continue" that is worth a log line, decided by rule R. */
static void __attribute__((format(printf, 3, 4)))
note(struct verdict *v, const struct rule *r, const char *fmt, ...)
{
	va_list ap;

	v->action = ACT_CONTINUE;
	str_copy(v->by, sizeof(v->by), r->id);
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	v->note = true;
}

static enum check_res
out_of_memory(struct session *s, struct verdict *v)
{
	session_refuse(s, v, &s->cfg->rules_error_reply, "rules", "out of memory");
	return CHECK_DONE;
}

/* Is every recipient of the message exempt (postmaster)?  Then content rules do not refuse it. */
static bool
only_exempt(const struct session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		if (!(s->rcpts[i].flags & RCPT_EXEMPT))
			return false;
	return s->nrcpts > 0;
}

/* Add a header once: a rule that matches several recipients prepends it once. */
static bool
add_header_once(struct session *s, const char *name, const char *value)
{
	const struct changes *c = session_changes(s);
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (c->hdrs[i].op == HDR_INSERT && str_ieq(c->hdrs[i].name, name) &&
		    strcmp(c->hdrs[i].value, value) == 0)
			return true;
	return session_add_header(s, HDR_INSERT, name, value, 0);
}

/* ---- actions ---- */

static enum check_res
act_refuse(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct scope_state *ss = &ev->s->rules->sc[ruleact_scope(r->stage)];
	const char *kw = r->reply.code[0] == '5' ? "REJECT" : "DEFER";
	struct reply_tmpl t = r->reply;

	expand_captures(ev, r->reply.text, t.text, sizeof(t.text));
	if (r->stage < STAGE_RCPT) {
		ss->refusal = true;
		ss->tmpl = t;
		str_copy(ss->refusal_by, sizeof(ss->refusal_by), r->id);
		snprintf(ss->refusal_detail, sizeof(ss->refusal_detail), "decided at %s", stage_name(r->stage));
		session_note(v, r->id, "%s delayed to RCPT", kw);
		return CHECK_NEXT;
	}
	if (r->stage > STAGE_RCPT && only_exempt(ev->s)) {
		note(v, r, "%s not applied: every recipient is exempt (postmaster)", kw);
		return CHECK_NEXT;
	}
	session_refuse(ev->s, v, &t, r->id, NULL);
	return CHECK_DONE;
}

/*
 * DISCARD and TURF.  At RCPT: this recipient only, as a verdict decide.c
 * keeps for eom (accepted now, removed then, with a copy for TURF).  At
 * connect and helo: every message of the connection; elsewhere: the
 * message.  Both are carried out at eom (ruleact_finish_message), where
 * the exempt recipients can be kept.
 */
static enum check_res
act_drop(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct scope_state *ss = &ev->s->rules->sc[ruleact_scope(r->stage)];
	enum action a = r->action == RA_TURF ? ACT_TURF : ACT_DISCARD;
	const char *kw = ruleparse_action_name(r->action);
	char text[CAP_DETAIL];

	text[0] = '\0';
	if (r->text != NULL)
		rule_text(ev, r->text, text, sizeof(text));
	if (r->stage == STAGE_RCPT) {
		v->action = a;
		session_note(v, r->id, "%s%s%s", kw, text[0] ? ": " : "", text);
		return CHECK_DONE;
	}
	if (ss->drop == ACT_CONTINUE) {
		ss->drop = a;
		snprintf(ss->drop_why, sizeof(ss->drop_why), "%s%s%s", r->id, text[0] ? ": " : "", text);
	}
	note(v, r, "%s %s%s%s", kw,
	    r->stage <= STAGE_HELO ? "every message of the connection" : "at end of message",
	    text[0] ? ": " : "", text);
	return CHECK_NEXT;
}

static enum check_res
act_quarantine(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct session *s = ev->s;
	enum scope sc = ruleact_scope(r->stage);
	char reason[CAP_REPLY_TEXT];

	rule_text(ev, r->text, reason, sizeof(reason));
	v->action = ACT_QUARANTINE;
	str_copy(v->reason, sizeof(v->reason), reason);
	session_note(v, r->id, NULL);
	if (session_monitored(s, r->id))
		return CHECK_NEXT;
	if (sc == SC_CONN || sc == SC_HELO) {
		struct scope_state *ss = &s->rules->sc[sc];

		free(ss->quarantine);
		if ((ss->quarantine = strdup(reason)) == NULL)
			return out_of_memory(s, v);
	} else if (session_changes(s)->quarantine == NULL && !session_set_quarantine(s, reason)) {
		return out_of_memory(s, v);
	}
	return CHECK_NEXT;
}

static enum check_res
act_prepend(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct session *s = ev->s;
	enum scope sc = ruleact_scope(r->stage);
	char value[CAP_REPLY_TEXT];

	rule_text(ev, r->text, value, sizeof(value));
	if (sc == SC_CONN || sc == SC_HELO) {
		struct scope_state *ss = &s->rules->sc[sc];
		struct hdr *h = realloc(ss->hdrs, (ss->nhdrs + 1) * sizeof(*h));

		if (h == NULL)
			return out_of_memory(s, v);
		ss->hdrs = h;
		h = &ss->hdrs[ss->nhdrs];
		h->name = strdup(r->hname);
		h->value = strdup(value);
		ss->nhdrs++;
		if (h->name == NULL || h->value == NULL)
			return out_of_memory(s, v);
	} else if (!add_header_once(s, r->hname, value)) {
		return out_of_memory(s, v);
	}
	note(v, r, "PREPEND %s: %s", r->hname, value);
	return CHECK_NEXT;
}

static enum check_res
act_relay(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct session *s = ev->s;
	enum scope sc = ruleact_scope(r->stage);

	/* A recipient that hides a route is relayed on the MTA's terms, not ours: never grant it. */
	if (sc == SC_RCPT && addr_hides_route(&s->cur_rcpt_addr)) {
		note(v, r, "RELAY not granted: the address hides a route (%s)",
		    addr_route_form(&s->cur_rcpt_addr));
		return CHECK_NEXT;
	}
	s->rules->sc[sc].relay = true;
	ruleact_recompute(s);
	note(v, r, "RELAY for %s", scope_words[sc]);
	return CHECK_NEXT;
}

/* The names of the checks in MASK, comma-separated. */
static void
check_names(unsigned long mask, char *buf, size_t size)
{
	struct strbuf sb;
	int id;

	strbuf_init(&sb, buf, size);
	for (id = 0; id < CHK_COUNT; id++)
		if (mask & (1UL << id))
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", check_name((enum check_id)id));
}

static enum check_res
act_skip(struct event *ev, struct verdict *v, unsigned long mask)
{
	const struct rule *r = ev->rule;
	enum scope sc = ruleact_scope(r->stage);
	struct scope_state *ss = &ev->s->rules->sc[sc];
	char names[200];

	/* "rules" is ours to keep: s->skip never holds CHK_RULES (ruleact_pending must run). */
	if (mask & (1UL << CHK_RULES))
		ss->rules_off = true;
	ss->skip |= mask & ~(1UL << CHK_RULES);
	ruleact_recompute(ev->s);
	check_names(mask, names, sizeof(names));
	if (r->action == RA_OK)
		note(v, r, "OK for %s (skips %s)", scope_words[sc], names);
	else
		note(v, r, "SKIP %s for %s", names, scope_words[sc]);
	return CHECK_NEXT;
}

enum check_res
ruleact_apply(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	char text[CAP_REPLY_TEXT];

	ev->s->rules->sc[ruleact_scope(r->stage)].used = true;
	switch (r->action) {
	case RA_OK:
		return act_skip(ev, v, OK_SKIPS | (1UL << CHK_RULES));
	case RA_SKIP:
		return act_skip(ev, v, r->skip);
	case RA_DUNNO:
		session_note(v, r->id, "DUNNO");
		return CHECK_NEXT;
	case RA_WARN:
		rule_text(ev, r->text, text, sizeof(text));
		note(v, r, "WARN %s", text);
		return CHECK_NEXT;
	case RA_REFUSE:
		return act_refuse(ev, v);
	case RA_DISCARD:
	case RA_TURF:
		return act_drop(ev, v);
	case RA_QUARANTINE:
		return act_quarantine(ev, v);
	case RA_PREPEND:
		return act_prepend(ev, v);
	case RA_RELAY:
		return act_relay(ev, v);
	default:
		return CHECK_NEXT;
	}
}

enum check_res
ruleact_error(struct event *ev, struct verdict *v)
{
	const struct rule *r = ev->rule;
	struct session *s = ev->s;
	struct scope_state *ss = &s->rules->sc[ruleact_scope(r->stage)];
	char msg[120];

	ss->used = true;
	pcre2_get_error_message(ev->err, (PCRE2_UCHAR *)msg, sizeof(msg));
	if (r->stage < STAGE_RCPT) {
		ss->refusal = true;
		ss->tmpl = s->cfg->rules_error_reply;
		str_copy(ss->refusal_by, sizeof(ss->refusal_by), r->id);
		snprintf(ss->refusal_detail, sizeof(ss->refusal_detail), "pattern failed at %s: %.30s",
		    stage_name(r->stage), msg);
		session_note(v, r->id, "pattern failed (%s): temporary failure delayed to RCPT", msg);
		return CHECK_NEXT;
	}
	if (r->stage > STAGE_RCPT && only_exempt(s)) {
		note(v, r, "pattern failed (%s); not applied: every recipient is exempt (postmaster)", msg);
		return CHECK_NEXT;
	}
	session_refuse(s, v, &s->cfg->rules_error_reply, r->id, "pattern failed: %s", msg);
	return CHECK_DONE;
}

bool
ruleact_message_start(struct session *s)
{
	struct rulestate *st = s->rules;
	int sc;

	for (sc = SC_CONN; sc <= SC_HELO; sc++) {
		struct scope_state *ss = &st->sc[sc];
		size_t i;

		if (ss->drop != ACT_CONTINUE && st->sc[SC_MSG].drop == ACT_CONTINUE) {
			st->sc[SC_MSG].used = true;
			st->sc[SC_MSG].drop = ss->drop;
			memcpy(st->sc[SC_MSG].drop_why, ss->drop_why, sizeof(ss->drop_why));
		}
		if (ss->quarantine != NULL && session_changes(s)->quarantine == NULL &&
		    !session_set_quarantine(s, ss->quarantine))
			return false;
		for (i = 0; i < ss->nhdrs; i++)
			if (!add_header_once(s, ss->hdrs[i].name, ss->hdrs[i].value))
				return false;
	}
	return true;
}

enum check_res
ruleact_pending(struct session *s, struct verdict *v)
{
	int sc;

	for (sc = SC_CONN; sc <= SC_MSG; sc++) {
		const struct scope_state *ss = &s->rules->sc[sc];
		struct verdict pv;

		if (!ss->refusal)
			continue;
		verdict_clear(&pv);
		session_refuse(s, &pv, &ss->tmpl, ss->refusal_by, "%s", ss->refusal_detail);
		/* A rule on trial (monitor_checks) only logs: the rcpt rules still run. */
		if (s->cfg->mode != MODE_MONITOR && session_monitored(s, pv.by)) {
			decide_also(s, &pv);
			continue;
		}
		*v = pv;
		return CHECK_DONE;
	}
	return CHECK_NEXT;
}

/* The "by" of WHY ("rule" of "rule: text"). */
static void
why_by(const char *why, char *by, size_t size)
{
	const char *sep = strstr(why, ": ");
	size_t n = sep ? (size_t)(sep - why) : strlen(why);

	snprintf(by, size, "%.*s", (int)n, why);
}

enum check_res
ruleact_finish_message(struct session *s, struct verdict *v)
{
	const struct scope_state *m = &s->rules->sc[SC_MSG];
	const char *kw = m->drop == ACT_TURF ? "TURF" : "DISCARD";
	char by[CAP_DECIDER];
	size_t i, exempt = 0;

	if (m->drop == ACT_CONTINUE)
		return CHECK_NEXT;
	why_by(m->drop_why, by, sizeof(by));
	if (session_monitored(s, by)) {
		v->action = m->drop; /* logged as "would", carried out by nobody */
		session_note(v, by, "%s", m->drop_why + strlen(by) + (m->drop_why[strlen(by)] ? 2 : 0));
		return CHECK_DONE;
	}
	for (i = 0; i < s->nrcpts; i++)
		exempt += (s->rcpts[i].flags & RCPT_EXEMPT) != 0;
	if (exempt == 0) {
		if (s->mg.turf_all == ACT_CONTINUE) {
			s->mg.turf_all = m->drop;
			str_copy(s->mg.turf_why, sizeof(s->mg.turf_why), m->drop_why);
		}
		return CHECK_NEXT; /* decide.c carries it out and logs it */
	}
	session_note(v, by, "%s %s", kw,
	    exempt == s->nrcpts ? "not applied: every recipient is exempt (postmaster)"
				: "of every recipient but the exempt ones (postmaster)");
	v->note = true;
	for (i = 0; i < s->nrcpts; i++) {
		struct rcpt_entry *r = &s->rcpts[i];

		if ((r->flags & (RCPT_EXEMPT | RCPT_TURF | RCPT_DROP)) != 0)
			continue;
		r->flags |= m->drop == ACT_TURF ? RCPT_TURF : RCPT_DROP;
		free(r->why);
		if ((r->why = strdup(m->drop_why)) == NULL)
			return out_of_memory(s, v);
	}
	return CHECK_NEXT;
}
