/*
 * decide.c - the decision core's stage entry points (see decide.h).
 *
 * Each stage is a table of checks (check.h) run in order; the first one
 * that decides ends the stage.  Adding a check is adding a row here and a
 * module of its own.  This file also owns the safety nets (soft_mode,
 * monitor mode, on_error) and the one log line per decision, so no check
 * has to remember them.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "clients.h"
#include "decide.h"
#include "decide_priv.h"
#include "dispose.h"
#include "flood.h"
#include "helo.h"
#include "log.h"
#include "loops.h"
#include "rdns.h"
#include "relay.h"
#include "ruleeval.h"
#include "sender_domain.h"
#include "session_priv.h"
#include "spf.h"
#include "stats.h"
#include "strbuf.h"
#include "turf.h"

/*
 * Where the rule files run (ruleeval.h): after the syntax checks and the
 * postmaster exemption, before every other built-in check of the stage,
 * so an administrator's rule can override a built-in (OK, SKIP, RELAY)
 * but never the syntax checks or postmaster's reachability.
 *
 * Connection control and connection floods answer at connect: their point
 * is the connection.  rdns_check is in every table up to RCPT and acts
 * only at rdns_stage.
 */
static const struct check connect_checks[] = {
	{CHK_RULES, ruleeval_connect},
	{CHK_CLIENTS, clients_connect},
	{CHK_LIMITS, flood_connect},
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

static const struct check helo_checks[] = {
	{CHK_RULES, ruleeval_helo},
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

/*
 * A flood is refused before a turf: the limits count every message.  A
 * turf sender is accepted and turfed before rdns could refuse it (no NDR
 * to feed a loop).
 */
static const struct check mail_checks[] = {
	{CHK_SYNTAX, relay_mail_syntax},
	{CHK_RULES, ruleeval_mail},
	{CHK_LIMITS, flood_mail},
	{CHK_TURF, loops_mail_turf_sender},
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

/*
 * loops_rcpt_turf comes after the relay check (a blackhole never makes us
 * accept mail we would not relay) and before local_recipients (a
 * blackholed or turfed recipient must not get "user unknown": that NDR is
 * what feeds a loop).  Limits come twice: the penalty and max_recipients
 * before the postmaster exemption (a flood is a flood, whoever it is
 * addressed to; both answer 4xx), the recipient rates last, so only
 * recipients that would be accepted are counted.  The identity checks
 * (DNS) come after the anti-relay ones: a relay attempt is refused as such
 * without any lookup, and postmaster (always_accept) ends the checks
 * before them.
 */
static const struct check rcpt_checks[] = {
	{CHK_SYNTAX, relay_rcpt_syntax},
	{CHK_LIMITS, flood_rcpt_first},
	{CHK_ALWAYS_ACCEPT, relay_rcpt_exempt},
	{CHK_RULES, ruleeval_rcpt},
	{CHK_RELAY, relay_rcpt_destination},
	{CHK_TURF, loops_rcpt_turf},
	{CHK_LOCAL_RECIPIENTS, relay_rcpt_local_user},
	{CHK_RDNS, rdns_check},
	{CHK_HELO, helo_check},
	{CHK_SENDER_DOMAIN, sender_domain_check},
	{CHK_SPF, spf_check},
	{CHK_LIMITS, flood_rcpt_last},
	{CHK_COUNT, NULL},
};

/* Run for every header until one decides; answered at eoh (decide.h). */
static const struct check header_checks[] = {
	{CHK_RULES, ruleeval_header},
	{CHK_HOPS, loops_header_hops},
	{CHK_LOOP, loops_header_marker},
	{CHK_COUNT, NULL},
};

static const struct check eoh_checks[] = {
	{CHK_COUNT, NULL},
};

static const struct check body_checks[] = {
	{CHK_RULES, ruleeval_body},
	{CHK_COUNT, NULL},
};

/* Checks that may refuse the whole message at eom; the turf candidates run after them. */
static const struct check eom_checks[] = {
	{CHK_RULES, ruleeval_eom},
	{CHK_LIMITS, flood_eom},
	{CHK_COUNT, NULL},
};

const char *
stage_name(enum stage st)
{
	static const char *const names[STAGE_COUNT] = {
		"connect", "helo", "mail", "rcpt", "data", "header", "eoh", "body", "eom",
	};

	return st < STAGE_COUNT ? names[st] : "?";
}

/* ---- logging ---- */

/*
 * " key=value"; with BRACKETS a path as Postfix logs it, "from=<a@b>": the
 * MTA passes MAIL and RCPT arguments with their own angle brackets (or
 * none), so one enclosing pair is dropped before ours are added.
 */
static void
log_field(struct strbuf *sb, const char *key, const char *value, bool brackets)
{
	char path[CAP_LOG_FIELD + 1];
	size_t len;

	if (value == NULL)
		value = "";
	len = strlen(value);
	if (brackets && len >= 2 && value[0] == '<' && value[len - 1] == '>') {
		len -= 2;
		if (len > CAP_LOG_FIELD)
			len = CAP_LOG_FIELD;
		memcpy(path, value + 1, len);
		path[len] = '\0';
		value = path;
	}
	strbuf_addf(sb, " %s=%s", key, brackets ? "<" : "");
	strbuf_add_printable(sb, value, CAP_LOG_FIELD);
	if (brackets)
		strbuf_addc(sb, '>');
}

/* One line per decision (STYLE 9), Postfix-like, untrusted text made printable. */
static void
log_decision(const struct session *s, const struct verdict *v)
{
	char line[2048], client[CAP_DOMAIN_LEN + IPADDR_TEXT + 8];
	struct strbuf sb;
	const char *qid = session_macro(s, "i");
	enum action a = v->monitored ? v->would : v->action;

	strbuf_init(&sb, line, sizeof(line));
	strbuf_add_printable(&sb, qid ? qid : "NOQUEUE", CAP_QUEUE_ID);
	strbuf_addf(&sb, ": %s: %s%s", stage_name(s->stage), v->monitored ? "would " : "",
	    action_name(a));
	if (action_is_refusal(a))
		strbuf_addf(&sb, " %s %s %s", v->reply.code, v->reply.xcode, v->reply.text);
	strbuf_add(&sb, ";");
	if (v->monitored)
		strbuf_add(&sb, " mode=monitor");
	log_field(&sb, "by", v->by, false);
	if (v->detail[0] != '\0')
		log_field(&sb, "detail", v->detail, false);
	if (a == ACT_QUARANTINE && v->reason[0] != '\0')
		log_field(&sb, "reason", v->reason, false);
	snprintf(client, sizeof(client), "%s[%s]", s->client_name[0] ? s->client_name : "unknown",
	    s->have_client ? s->client_addr : "unknown");
	log_field(&sb, "client", client, false);
	if (s->have_helo)
		log_field(&sb, "helo", s->helo, true);
	if (s->have_sender)
		log_field(&sb, "from", s->sender, true);
	if (s->stage == STAGE_RCPT && s->cur_rcpt != NULL)
		log_field(&sb, "to", s->cur_rcpt, true);
	log_msg(v->monitored || a == ACT_CONTINUE ? LOG_INFO : LOG_NOTICE, "%s", line);
}

/* ---- safety nets ---- */

/* soft_mode and monitor mode (global, or monitor_checks naming this check or rule). */
static void
nets(struct session *s, struct verdict *v)
{
	if (v->action == ACT_REJECT && s->cfg->soft_mode) {
		reply_soften(&v->reply);
		v->action = ACT_TEMPFAIL;
	}
	if (v->action != ACT_CONTINUE && v->action != ACT_ACCEPT && session_monitored(s, v->by)) {
		v->monitored = true;
		v->would = v->action;
		v->action = ACT_CONTINUE;
	}
}

void
decide_record(struct session *s, struct verdict *v)
{
	stats_decision(s->stage, v);
	if (v->action != ACT_CONTINUE || v->monitored || v->note)
		log_decision(s, v);
	if (s->stage >= STAGE_DATA && v->action != ACT_CONTINUE && v->action != ACT_QUARANTINE &&
	    v->action != ACT_TURF) {
		turf_spool_free(s->mg.spool);
		s->mg.spool = NULL;
	}
}

/* "by: detail" of V into BUF. */
static void
why_of(const struct verdict *v, char *buf, size_t size)
{
	if (v->detail[0] != '\0')
		snprintf(buf, size, "%s: %s", v->by, v->detail);
	else
		snprintf(buf, size, "%s", v->by);
}

/*
 * A turf decided before eom waits for eom, where the copy can be made:
 * at RCPT for this recipient (DISCARD too: at RCPT it would drop every
 * recipient, LIBRARIES 1.8), elsewhere for the whole message.  It is
 * logged when it is carried out.
 */
static bool
pend(struct session *s, struct verdict *v)
{
	if (v->action != ACT_TURF && !(s->stage == STAGE_RCPT && v->action == ACT_DISCARD))
		return false;
	if (s->stage == STAGE_RCPT) {
		s->cur_rcpt_flags |= v->action == ACT_TURF ? RCPT_TURF : RCPT_DROP;
		why_of(v, s->cur_rcpt_why, sizeof(s->cur_rcpt_why));
	} else if (s->mg.turf_all == ACT_CONTINUE) {
		s->mg.turf_all = ACT_TURF;
		why_of(v, s->mg.turf_why, sizeof(s->mg.turf_why));
	}
	v->action = ACT_CONTINUE;
	return true;
}

/* Apply the safety nets to a decided verdict, then log it (or keep a turf for eom). */
static void
finish(struct session *s, struct verdict *v)
{
	nets(s, v);
	if (s->stage != STAGE_EOM && pend(s, v))
		return;
	decide_record(s, v);
}

/* Keep V among the further decisions of the event, for the what-if mode. */
static void
also_add(struct session *s, const struct verdict *v)
{
	if (s->nalso < SESSION_ALSO_MAX)
		s->also[s->nalso++] = *v;
}

void
decide_also(struct session *s, struct verdict *v)
{
	finish(s, v);
	also_add(s, v);
}

void
decide_internal_error(struct session *s, struct verdict *v, const char *what)
{
	static const struct reply_tmpl tmpl = {"451", "4.3.0", "Temporary internal error"};

	verdict_clear(v);
	log_msg(LOG_ERR, "internal error: %s", what);
	if (s->cfg->on_error == ON_ERROR_ACCEPT) {
		session_note(v, "internal", "%s (on_error=accept)", what);
		return;
	}
	session_refuse(s, v, &tmpl, "internal", "%s", what);
}

/*
 * A decision that only counts as "would" because monitor_checks names
 * its decider (not global monitor mode, where the first decision stands
 * for the whole stage): the checks after it still run and enforce, or a
 * rule on trial before the relay check would let relaying through.
 */
static bool
on_trial(const struct session *s, const struct verdict *v)
{
	return v->action != ACT_CONTINUE && v->action != ACT_ACCEPT && s->cfg->mode != MODE_MONITOR &&
	       strset_contains(s->cfg->monitor_checks, v->by);
}

/*
 * Run TABLE until a check decides; the caller finishes the verdict.  A
 * check may leave a noted "continue" (a rule's WARN) or a decision on
 * trial and let the next checks run: they are held, and if a later check
 * decides they are logged on their own lines (nothing a rule said is
 * lost); if none does, the first of them is the verdict.
 */
static void
run_table(struct session *s, const struct check *table, struct verdict *v)
{
	struct verdict held[SESSION_ALSO_MAX];
	const struct check *c;
	size_t nheld = 0, i;
	bool decided = false;

	s->nalso = 0;
	for (c = table; c->run != NULL && !decided; c++) {
		if (s->skip & (1UL << c->id))
			continue; /* a SKIP rule exempted this session */
		if ((v->note || on_trial(s, v)) && nheld < SESSION_ALSO_MAX) {
			held[nheld++] = *v;
			verdict_clear(v);
		}
		decided = c->run(s, v) == CHECK_DONE && !on_trial(s, v);
	}
	if (!decided && nheld > 0 && v->action == ACT_CONTINUE && !v->note) {
		*v = held[0]; /* nothing after the held ones decided */
		memmove(held, held + 1, --nheld * sizeof(*held));
	}
	for (i = 0; i < nheld; i++)
		decide_also(s, &held[i]);
}

static void
run_checks(struct session *s, const struct check *table, struct verdict *v)
{
	run_table(s, table, v);
	finish(s, v);
}

/* ---- stages ---- */

/* Start deciding one event at stage ST; its DNS waits end dns_timeout from now. */
static void
begin(struct session *s, enum stage st, struct verdict *v)
{
	verdict_clear(v);
	s->stage = st;
	s->counters[0] = '\0';
	dns_deadline_in(s->cfg->dns_timeout, &s->dns_deadline);
}

void
decide_connect(struct session *s, const struct ipaddr *client, const char *client_name,
    struct verdict *v)
{
	begin(s, STAGE_CONNECT, v);
	flood_close(s); /* a second connect on one session: the first connection is over */
	s->client_key[0] = '\0';
	s->have_client = client != NULL && (client->family == AF_INET || client->family == AF_INET6);
	if (s->have_client) {
		s->client = *client;
		ipaddr_format(client, s->client_addr, sizeof(s->client_addr));
	} else {
		memset(&s->client, 0, sizeof(s->client));
		s->client_addr[0] = '\0';
	}
	str_copy(s->client_name, sizeof(s->client_name), client_name ? client_name : "");
	rdns_connect(s);
	run_checks(s, connect_checks, v);
}

void
decide_helo(struct session *s, const char *helo, struct verdict *v)
{
	begin(s, STAGE_HELO, v);
	s->have_helo = helo != NULL;
	str_copy(s->helo, sizeof(s->helo), helo ? helo : "");
	run_checks(s, helo_checks, v);
}

void
decide_mail(struct session *s, const char *addr, char *const *args, struct verdict *v)
{
	begin(s, STAGE_MAIL, v);
	session_reset_message(s);
	s->have_sender = true;
	str_copy(s->sender, sizeof(s->sender), addr ? addr : "");
	s->cur_args = args;
	run_checks(s, mail_checks, v);
	s->cur_args = NULL;
}

/* RCPT macros describe one recipient: forget them once it is decided. */
static void
forget_rcpt_macros(struct session *s)
{
	session_set_macro(s, "{rcpt_mailer}", NULL);
	session_set_macro(s, "{rcpt_host}", NULL);
	session_set_macro(s, "{rcpt_addr}", NULL);
}

/*
 * A recipient the MTA refused itself (it shows them when we ask for
 * SMFIP_RCPT_REJ, with {rcpt_mailer} "error"): its answer stands, so it is
 * only counted, and it is no recipient of the message.
 */
static bool
refused_by_mta(const struct session *s)
{
	const char *mailer = session_macro(s, "{rcpt_mailer}");

	return mailer != NULL && strcmp(mailer, "error") == 0;
}

void
decide_rcpt(struct session *s, const char *addr, char *const *args, struct verdict *v)
{
	static const struct reply_tmpl too_many = {"452", "4.5.3", "Too many recipients"};

	begin(s, STAGE_RCPT, v);
	s->cur_rcpt = addr ? addr : "";
	s->cur_rcpt_flags = 0;
	s->cur_args = args;
	memset(&s->cur_rcpt_addr, 0, sizeof(s->cur_rcpt_addr));
	if (refused_by_mta(s)) {
		flood_rcpt_mta_refused(s);
		finish(s, v);
	} else {
		if (s->nrcpts >= CAP_RCPTS)
			session_refuse(s, v, &too_many, "caps", "more than %d recipients", CAP_RCPTS);
		else
			run_table(s, rcpt_checks, v);
		flood_rcpt_refused(s, v); /* every 5xx counts as a bad recipient */
		finish(s, v);
		/* A recipient the client will see accepted is remembered for eom
		 * (a rule's QUARANTINE too: it acts on the message). */
		if (!action_is_refusal(v->action) && !session_keep_rcpt(s))
			decide_internal_error(s, v, "out of memory keeping a recipient");
	}
	forget_rcpt_macros(s);
	ruleeval_rcpt_done(s);
	s->cur_rcpt = NULL;
	s->cur_args = NULL;
}

void
decide_data(struct session *s, struct verdict *v)
{
	static const struct reply_tmpl none = {"554", "5.5.1", "No valid recipients"};

	begin(s, STAGE_DATA, v);
	/* A DATA with no accepted recipient never reaches the body (the MTA
	 * normally stops it first; this is the belt to its braces). */
	if (s->nrcpts == 0)
		session_refuse(s, v, &none, "data", NULL);
	finish(s, v);
}

bool
decide_body_wanted(const struct session *s)
{
	return s->mg.spool != NULL || loops_repeat_pending(s) || flood_body_wanted(s) ||
	       ruleeval_body_wanted(s);
}

/*
 * Settle the candidates a check marked (loops.h): monitored, they are
 * logged as "would turf" and forgotten; otherwise they become RCPT_TURF,
 * carried out (and logged) at eom.
 */
static void
settle_candidates(struct session *s, struct verdict *v)
{
	char why[WHY_MAX];
	size_t i;

	why_of(v, why, sizeof(why));
	for (i = 0; i < s->nrcpts; i++) {
		struct rcpt_entry *r = &s->rcpts[i];

		if (!(r->flags & RCPT_CAND))
			continue;
		r->flags &= ~RCPT_CAND;
		if (v->monitored) {
			free(r->why);
			r->why = NULL;
			continue;
		}
		r->flags |= RCPT_TURF;
		if (r->why == NULL)
			r->why = strdup(why);
	}
	if (v->monitored)
		decide_record(s, v);
}

/* Run candidate check FN (loops.h); true when it refused the message (V recorded). */
static bool
run_candidate(struct session *s, enum check_id id, check_fn fn, struct verdict *v)
{
	struct verdict cv;

	verdict_clear(&cv);
	if ((s->skip & (1UL << id)) || fn(s, &cv) != CHECK_DONE)
		return false;
	nets(s, &cv);
	if (action_is_refusal(cv.action)) {
		*v = cv;
		decide_record(s, v);
		return true;
	}
	if (cv.monitored && action_is_refusal(cv.would))
		decide_record(s, &cv);
	else
		settle_candidates(s, &cv);
	if (cv.monitored && v->by[0] == '\0')
		*v = cv; /* show what monitor mode let through (already logged) */
	return false;
}

void
decide_header(struct session *s, const char *name, const char *value, struct verdict *v)
{
	begin(s, STAGE_HEADER, v);
	authres_header(s, name, value);
	/* "Name: value" CRLF, as the message holds it (max_message_size) */
	s->msg_bytes += strlen(name) + strlen(value) + 4;
	if (s->mg.have_deferred)
		return; /* decided: the rest of the headers changes nothing */
	dispose_copy_start(s);
	dispose_copy_add(s, name, strlen(name));
	dispose_copy_add(s, ": ", 2);
	dispose_copy_add(s, value, strlen(value));
	dispose_copy_add(s, "\n", 1);
	loops_observe_header(s, name, value);
	s->cur_hdr_name = name;
	s->cur_hdr_value = value;
	run_checks(s, header_checks, v);
	s->cur_hdr_name = s->cur_hdr_value = NULL;
	/* A rule's QUARANTINE is a message change: the headers go on. */
	if (v->action != ACT_CONTINUE && v->action != ACT_QUARANTINE) {
		s->mg.deferred = *v;
		s->mg.have_deferred = true;
	}
}

void
decide_eoh(struct session *s, struct verdict *v)
{
	begin(s, STAGE_EOH, v);
	s->msg_bytes += 2; /* the empty line after the header */
	dispose_copy_start(s);
	s->mg.in_body = true;
	if (s->mg.have_deferred) {
		*v = s->mg.deferred; /* logged when it was decided */
		return;
	}
	dispose_copy_add(s, "\n", 1);
	run_checks(s, eoh_checks, v);
	dispose_copy_update(s);
}

void
decide_body(struct session *s, const unsigned char *chunk, size_t len, struct verdict *v)
{
	begin(s, STAGE_BODY, v);
	s->msg_bytes += len;
	dispose_copy_start(s);
	dispose_copy_add(s, chunk, len);
	/* The repeat check runs as soon as the fingerprint is complete, so the
	 * rest of the body can be skipped when no copy is needed. */
	if (loops_repeat_pending(s) && loops_observe_body(s, chunk, len) &&
	    run_candidate(s, CHK_LOOP, loops_repeats, v))
		return;
	dispose_copy_update(s);
	s->cur_body = chunk;
	s->cur_body_len = chunk ? len : 0;
	run_checks(s, body_checks, v);
	s->cur_body = NULL;
	s->cur_body_len = 0;
}

/* reroute: old.example -> new.example for every accepted recipient (DESIGN "Anti-relay"). */
static bool
apply_reroute(struct session *s)
{
	size_t i, j;

	for (i = 0; i < s->nrcpts; i++) {
		struct addr a;
		char to[CAP_ADDR_LEN + 8];

		if (s->rcpts[i].flags & (RCPT_TURF | RCPT_DROP))
			continue; /* removed at this eom */
		if (addr_parse(s->rcpts[i].raw, &a) != ADDR_OK ||
		    (a.flags & (ADDR_NO_DOMAIN | ADDR_LITERAL)))
			continue;
		for (j = 0; j < s->cfg->n_reroute; j++) {
			if (strcmp(a.domain, s->cfg->reroute[j].from) != 0)
				continue;
			if (a.flags & ADDR_QUOTED)
				snprintf(to, sizeof(to), "<\"%s\"@%s>", a.local, s->cfg->reroute[j].to);
			else
				snprintf(to, sizeof(to), "<%s@%s>", a.local, s->cfg->reroute[j].to);
			if (!session_add_rcpt_change(s, RCPT_DEL, s->rcpts[i].raw) ||
			    !session_add_rcpt_change(s, RCPT_ADD, to))
				return false;
			break;
		}
	}
	return true;
}

void
decide_eom(struct session *s, struct verdict *v)
{
	struct verdict noted;
	bool have_note = false;

	begin(s, STAGE_EOM, v);
	dispose_copy_start(s);
	run_table(s, eom_checks, v);
	if (v->action != ACT_CONTINUE || v->monitored) {
		finish(s, v);
		if (v->action != ACT_CONTINUE)
			return;
	} else if (v->note) {
		noted = *v; /* a rule's WARN, PREPEND...: logged now, shown if turf decides */
		finish(s, v);
		have_note = true;
	}
	if (run_candidate(s, CHK_LOOP, loops_repeats, v) ||
	    run_candidate(s, CHK_AUTOREPLY, loops_autoreply, v) || dispose_execute(s, v)) {
		if (have_note)
			also_add(s, &noted);
		return;
	}
	if (!apply_reroute(s) || !loops_eom_changes(s) || !authres_eom(s)) {
		decide_internal_error(s, v, "out of memory at end of message");
		decide_record(s, v);
		return;
	}
	if (have_note && strcmp(v->by, noted.by) != 0)
		also_add(s, &noted);
	if (v->by[0] == '\0')
		decide_record(s, v);
}

void
decide_abort(struct session *s)
{
	if (s == NULL)
		return;
	session_reset_message(s);
	session_set_macro(s, "i", NULL); /* the queue id belonged to that message */
}

void
decide_close(struct session *s)
{
	if (s == NULL)
		return;
	s->counters[0] = '\0';
	flood_close(s);
}
