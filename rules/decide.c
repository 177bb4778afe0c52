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
#include "decide.h"
#include "helo.h"
#include "log.h"
#include "rdns.h"
#include "relay.h"
#include "sender_domain.h"
#include "session_priv.h"
#include "spf.h"
#include "stats.h"
#include "strbuf.h"

/* rdns_check is in every table before RCPT and acts only at rdns_stage. */
static const struct check connect_checks[] = {
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

static const struct check helo_checks[] = {
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

static const struct check mail_checks[] = {
	{CHK_SYNTAX, relay_mail_syntax},
	{CHK_RDNS, rdns_check},
	{CHK_COUNT, NULL},
};

/*
 * The identity checks come after the anti-relay ones: a relay attempt is
 * refused as such without any DNS, and postmaster (always_accept) ends
 * the checks before them.
 */
static const struct check rcpt_checks[] = {
	{CHK_SYNTAX, relay_rcpt_syntax},
	{CHK_ALWAYS_ACCEPT, relay_rcpt_exempt},
	{CHK_RELAY, relay_rcpt_destination},
	{CHK_LOCAL_RECIPIENTS, relay_rcpt_local_user},
	{CHK_RDNS, rdns_check},
	{CHK_HELO, helo_check},
	{CHK_SENDER_DOMAIN, sender_domain_check},
	{CHK_SPF, spf_check},
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

/* Apply soft_mode and monitor mode to a decided verdict, then log it. */
static void
finish(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;

	if (v->action == ACT_REJECT && cfg->soft_mode) {
		reply_soften(&v->reply);
		v->action = ACT_TEMPFAIL;
	}
	/* Global monitor mode, or monitor_checks naming this check or rule. */
	if (v->action != ACT_CONTINUE && v->action != ACT_ACCEPT &&
	    (cfg->mode == MODE_MONITOR || strset_contains(cfg->monitor_checks, v->by))) {
		v->monitored = true;
		v->would = v->action;
		v->action = ACT_CONTINUE;
	}
	stats_decision(s->stage, v);
	if (v->action != ACT_CONTINUE || v->monitored)
		log_decision(s, v);
}

/* An internal error (out of memory): on_error decides (DESIGN: internal errors tempfail). */
static void
internal_error(struct session *s, struct verdict *v, const char *what)
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

static void
run_checks(struct session *s, const struct check *table, struct verdict *v)
{
	const struct check *c;

	for (c = table; c->run != NULL; c++) {
		if (s->skip & (1UL << c->id))
			continue; /* a SKIP rule exempted this session */
		if (c->run(s, v) == CHECK_DONE)
			break;
	}
	finish(s, v);
}

/* ---- stages ---- */

/* Start deciding a command: its stage, and the deadline of its DNS waits (dns_timeout). */
static void
begin(struct session *s, enum stage st, struct verdict *v)
{
	verdict_clear(v);
	s->stage = st;
	dns_deadline_in(s->cfg->dns_timeout, &s->dns_deadline);
}

void
decide_connect(struct session *s, const struct ipaddr *client, const char *client_name,
    struct verdict *v)
{
	begin(s, STAGE_CONNECT, v);
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
	(void)args;
	begin(s, STAGE_MAIL, v);
	session_reset_message(s);
	s->have_sender = true;
	str_copy(s->sender, sizeof(s->sender), addr ? addr : "");
	run_checks(s, mail_checks, v);
}

/* RCPT macros describe one recipient: forget them once it is decided. */
static void
forget_rcpt_macros(struct session *s)
{
	session_set_macro(s, "{rcpt_mailer}", NULL);
	session_set_macro(s, "{rcpt_host}", NULL);
	session_set_macro(s, "{rcpt_addr}", NULL);
}

void
decide_rcpt(struct session *s, const char *addr, char *const *args, struct verdict *v)
{
	static const struct reply_tmpl too_many = {"452", "4.5.3", "Too many recipients"};

	(void)args;
	begin(s, STAGE_RCPT, v);
	s->cur_rcpt = addr ? addr : "";
	s->cur_rcpt_flags = 0;
	memset(&s->cur_rcpt_addr, 0, sizeof(s->cur_rcpt_addr));
	if (s->nrcpts >= CAP_RCPTS) {
		session_refuse(s, v, &too_many, "caps", "more than %d recipients", CAP_RCPTS);
		finish(s, v);
	} else {
		run_checks(s, rcpt_checks, v);
	}
	/* A recipient the client will see accepted is remembered for eom. */
	if (v->action == ACT_CONTINUE && !session_keep_rcpt(s))
		internal_error(s, v, "out of memory keeping a recipient");
	forget_rcpt_macros(s);
	s->cur_rcpt = NULL;
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

void
decide_header(struct session *s, const char *name, const char *value, struct verdict *v)
{
	begin(s, STAGE_HEADER, v);
	authres_header(s, name, value);
}

void
decide_eoh(struct session *s, struct verdict *v)
{
	begin(s, STAGE_EOH, v);
}

void
decide_body(struct session *s, const unsigned char *chunk, size_t len, struct verdict *v)
{
	(void)chunk;
	(void)len;
	begin(s, STAGE_BODY, v);
}

/* reroute: old.example -> new.example for every accepted recipient (DESIGN "Anti-relay"). */
static bool
apply_reroute(struct session *s)
{
	size_t i, j;

	for (i = 0; i < s->nrcpts; i++) {
		struct addr a;
		char to[CAP_ADDR_LEN + 8];

		if (addr_parse(s->rcpts[i].raw, &a) != ADDR_OK || (a.flags & (ADDR_NO_DOMAIN | ADDR_LITERAL)))
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
	begin(s, STAGE_EOM, v);
	if (!apply_reroute(s)) {
		internal_error(s, v, "out of memory rerouting");
		finish(s, v);
		return;
	}
	if (!authres_eom(s))
		internal_error(s, v, "out of memory adding Authentication-Results");
	finish(s, v);
}

void
decide_abort(struct session *s)
{
	if (s == NULL)
		return;
	session_reset_message(s);
	session_set_macro(s, "i", NULL); /* the queue id belonged to that message */
}
