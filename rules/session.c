/*
 * session.c - per-connection state (see session.h, session_priv.h).
 *
 * Memory: the session owns its macro values, the current message's
 * recipients and changes.  Message memory is freed by
 * session_reset_message (abort, end of message, next MAIL); everything
 * else by session_free at close.
 */
#include "autoconf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleeval.h"
#include "session_priv.h"
#include "strbuf.h"

static atomic_ulong session_serial;

struct session *
session_new(struct snapshot *snap, struct services *svc)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->snap = snapshot_ref(snap);
	s->cfg = snap->cfg;
	s->svc = svc;
	s->id = atomic_fetch_add(&session_serial, 1) + 1;
	return s;
}

static void
changes_free(struct changes *c)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++) {
		free(c->hdrs[i].name);
		free(c->hdrs[i].value);
	}
	for (i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i].addr);
	free(c->hdrs);
	free(c->rcpts);
	free(c->quarantine);
	memset(c, 0, sizeof(*c));
}

void
session_reset_message(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++) {
		free(s->rcpts[i].raw);
		free(s->rcpts[i].why);
	}
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = s->caprcpts = 0;
	changes_free(&s->changes);
	s->have_sender = false;
	s->sender[0] = '\0';
	s->msg_bytes = 0;
	memset(&s->sender_addr, 0, sizeof(s->sender_addr));
	s->spf_done = false;
	memset(&s->spf, 0, sizeof(s->spf));
	s->sender_domain = SD_UNKNOWN;
	s->n_authres = s->n_forged = 0;
	turf_spool_free(s->mg.spool);
	memset(&s->mg, 0, sizeof(s->mg));
	ruleeval_message_reset(s);
}

void
session_free(struct session *s)
{
	size_t i;

	if (s == NULL)
		return;
	session_reset_message(s);
	iprev_free(s->iprev);
	for (i = 0; i < s->nmacros; i++)
		free(s->macros[i].value);
	ruleeval_free(s->rules);
	snapshot_unref(s->snap);
	free(s);
}

void
session_set_macro(struct session *s, const char *name, const char *value)
{
	struct macro *m = NULL;
	size_t i, len;

	if (s == NULL || name == NULL || strlen(name) >= sizeof(m->name))
		return;
	for (i = 0; i < s->nmacros; i++)
		if (strcmp(s->macros[i].name, name) == 0)
			m = &s->macros[i];
	if (m != NULL) {
		free(m->value);
		m->value = NULL;
	}
	if (value == NULL || *value == '\0') {
		if (m != NULL) {
			*m = s->macros[--s->nmacros];
		}
		return;
	}
	if (m == NULL) {
		if (s->nmacros == CAP_MACROS)
			return;
		m = &s->macros[s->nmacros++];
		str_copy(m->name, sizeof(m->name), name);
	}
	len = strlen(value);
	if (len > CAP_MACRO_LEN)
		len = CAP_MACRO_LEN;
	if ((m->value = malloc(len + 1)) != NULL) {
		memcpy(m->value, value, len);
		m->value[len] = '\0';
	} else {
		*m = s->macros[--s->nmacros];
	}
}

const char *
session_macro(const struct session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nmacros; i++)
		if (strcmp(s->macros[i].name, name) == 0)
			return s->macros[i].value;
	return NULL;
}

const struct snapshot *
session_snapshot(const struct session *s)
{
	return s->snap;
}

const struct changes *
session_changes(const struct session *s)
{
	return &s->changes;
}

size_t
session_take_also(struct session *s, struct verdict *out, size_t max)
{
	size_t n = s->nalso < max ? s->nalso : max;

	memcpy(out, s->also, n * sizeof(*out));
	s->nalso = 0;
	return n;
}

size_t
session_rcpt_count(const struct session *s)
{
	return s->nrcpts;
}

const char *
session_turf_id(const struct session *s)
{
	return s->mg.turf_id[0] != '\0' ? s->mg.turf_id : NULL;
}

void
session_set_glue_flags(struct session *s, unsigned flags)
{
	s->glue_flags = flags;
}

unsigned
session_glue_flags(const struct session *s)
{
	return s->glue_flags;
}

const char *
session_counters(const struct session *s)
{
	return s->counters;
}

void
session_counter(struct session *s, const char *fmt, ...)
{
	size_t len = strlen(s->counters);
	va_list ap;
	int n;

	if (len + 2 >= sizeof(s->counters))
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->counters + len, sizeof(s->counters) - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->counters[len] = '\0';
		return;
	}
	len = strlen(s->counters);
	s->counters[len] = '\n';
	s->counters[len + 1] = '\0';
}

/* ---- facts ---- */

/* Macro NAME as an address that names one host (not 0.0.0.0 or ::). */
static bool
macro_host_addr(const struct session *s, const char *name, struct ipaddr *out)
{
	const char *v = session_macro(s, name);
	size_t i, n;

	if (v == NULL || !ipaddr_parse(v, out))
		return false;
	n = out->family == AF_INET ? 4 : 16;
	for (i = 0; i < n; i++)
		if (out->a[i] != 0)
			return true;
	return false;
}

/*
 * The address the client connected to.  Sendmail's {if_addr} is exactly
 * that (getsockname on the connection) but is left unset on loopback; its
 * {daemon_addr} is the address the daemon listens on, 0.0.0.0 (or ::)
 * unless DaemonPortOptions names one (sendmail daemon.c).  Postfix sends
 * {daemon_addr}, the local end of the connection, and no {if_addr}.
 */
bool
session_daemon_addr(const struct session *s, struct ipaddr *out)
{
	return macro_host_addr(s, "{if_addr}", out) || macro_host_addr(s, "{daemon_addr}", out);
}

bool
session_is_trusted(const struct session *s)
{
	return s->have_client && cidrset_contains(s->cfg->trusted_networks, &s->client) &&
	       !cidrset_contains(s->cfg->never_relay_networks, &s->client);
}

bool
session_is_authenticated(const struct session *s)
{
	const char *v = session_macro(s, "{auth_authen}");

	return v != NULL && *v != '\0';
}

bool
session_is_internal(const struct session *s)
{
	struct ipaddr d;

	return cidrset_count(s->cfg->internal_interfaces) > 0 && session_daemon_addr(s, &d) &&
	       cidrset_contains(s->cfg->internal_interfaces, &d);
}

bool
session_may_relay(const struct session *s)
{
	return session_is_trusted(s) || (s->cfg->relay_authenticated && session_is_authenticated(s)) ||
	       session_is_internal(s) || s->rule_relay;
}

bool
session_identity_exempt(const struct session *s)
{
	return session_is_trusted(s) || session_is_authenticated(s) || session_is_internal(s);
}

const char *
session_authserv_id(const struct session *s)
{
	if (s->cfg->authserv_id != NULL)
		return s->cfg->authserv_id;
	return s->svc != NULL && s->svc->hostname[0] ? s->svc->hostname : "localhost";
}

bool
session_domain_is_local(const struct session *s, const char *domain)
{
	return domset_contains(s->cfg->local_domains, domain);
}

bool
session_literal_is_ours(const struct session *s, const struct ipaddr *ip)
{
	struct ipaddr d;

	if (cidrset_contains(s->cfg->our_addresses, ip))
		return true;
	return session_daemon_addr(s, &d) && ipaddr_equal(&d, ip);
}

/* ---- verdicts ---- */

/* What reply_value needs: the session, and the bare forms of the paths. */
struct reply_ctx {
	const struct session *s;
	char sender[CAP_ADDR_LEN + 1];
	char rcpt[CAP_ADDR_LEN + 1];
};

/* %{name} values for reply texts; %{sender} and %{rcpt} are the bare addresses. */
static const char *
reply_value(const char *name, void *arg)
{
	const struct reply_ctx *rc = arg;
	const struct session *s = rc->s;

	if (strcmp(name, "client_addr") == 0)
		return s->have_client ? s->client_addr : NULL;
	if (strcmp(name, "client_name") == 0)
		return s->client_name[0] ? s->client_name : NULL;
	if (strcmp(name, "helo") == 0)
		return s->have_helo ? s->helo : NULL;
	if (strcmp(name, "sender") == 0)
		return s->have_sender ? rc->sender : NULL;
	if (strcmp(name, "rcpt") == 0)
		return s->cur_rcpt ? rc->rcpt : NULL;
	if (strcmp(name, "rcpt_domain") == 0)
		return s->cur_rcpt && s->cur_rcpt_addr.domain[0] ? s->cur_rcpt_addr.domain : NULL;
	if (strcmp(name, "queue_id") == 0)
		return session_macro(s, "i");
	if (strcmp(name, "sender_domain") == 0)
		return s->have_sender && s->sender_addr.domain[0] ? s->sender_addr.domain : NULL;
	if (strcmp(name, "spf_domain") == 0)
		return s->spf_done && s->spf.domain[0] ? s->spf.domain : NULL;
	if (strcmp(name, "spf_explanation") == 0)
		return s->spf_done && s->spf.explanation[0] ? s->spf.explanation : NULL;
	return NULL;
}

void
session_refuse(struct session *s, struct verdict *v, const struct reply_tmpl *t, const char *by,
    const char *detail, ...)
{
	struct reply_ctx rc = {.s = s};
	va_list ap;

	addr_bare(s->sender, rc.sender, sizeof(rc.sender));
	addr_bare(s->cur_rcpt ? s->cur_rcpt : "", rc.rcpt, sizeof(rc.rcpt));
	reply_expand(t, reply_value, &rc, &v->reply);
	v->action = t->code[0] == '5' ? ACT_REJECT : ACT_TEMPFAIL;
	str_copy(v->by, sizeof(v->by), by);
	v->detail[0] = '\0';
	if (detail != NULL) {
		va_start(ap, detail);
		vsnprintf(v->detail, sizeof(v->detail), detail, ap);
		va_end(ap);
	}
}

void
session_expand(struct session *s, const char *text, char *out, size_t size)
{
	struct reply_ctx rc = {.s = s};
	struct reply_tmpl t;
	struct reply r;

	memset(&t, 0, sizeof(t));
	str_copy(t.text, sizeof(t.text), text);
	addr_bare(s->sender, rc.sender, sizeof(rc.sender));
	addr_bare(s->cur_rcpt ? s->cur_rcpt : "", rc.rcpt, sizeof(rc.rcpt));
	reply_expand(&t, reply_value, &rc, &r);
	str_copy(out, size, r.text);
}

void
session_note_pass(struct verdict *v, const char *check, const char *fmt, ...)
{
	struct strbuf sb;
	char what[CAP_DETAIL], before[CAP_DETAIL];
	va_list ap;

	if (v->by[0] != '\0' || v->action != ACT_CONTINUE)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	str_copy(before, sizeof(before), v->detail);
	strbuf_init(&sb, v->detail, sizeof(v->detail));
	strbuf_addf(&sb, "%s%s%s: %s", before, before[0] ? ", " : "", check, what);
}

void
session_note(struct verdict *v, const char *by, const char *detail, ...)
{
	va_list ap;

	str_copy(v->by, sizeof(v->by), by);
	v->detail[0] = '\0';
	if (detail != NULL) {
		va_start(ap, detail);
		vsnprintf(v->detail, sizeof(v->detail), detail, ap);
		va_end(ap);
	}
}

/* ---- message changes ---- */

bool
session_add_header(struct session *s, enum hdr_op op, const char *name, const char *value,
    int index)
{
	struct changes *c = &s->changes;
	struct hdr_change *h;

	if (c->nhdrs == c->caphdrs) {
		size_t ncap = c->caphdrs ? c->caphdrs * 2 : 4;
		struct hdr_change *n = realloc(c->hdrs, ncap * sizeof(*n));

		if (n == NULL)
			return false;
		c->hdrs = n;
		c->caphdrs = ncap;
	}
	h = &c->hdrs[c->nhdrs];
	h->op = op;
	h->index = index;
	h->name = strdup(name);
	h->value = value ? strdup(value) : NULL;
	if (h->name == NULL || (value != NULL && h->value == NULL)) {
		free(h->name);
		free(h->value);
		return false;
	}
	c->nhdrs++;
	return true;
}

bool
session_add_rcpt_change(struct session *s, enum rcpt_op op, const char *addr)
{
	struct changes *c = &s->changes;
	char *copy;

	if (c->nrcpts == c->caprcpts) {
		size_t ncap = c->caprcpts ? c->caprcpts * 2 : 4;
		struct rcpt_change *n = realloc(c->rcpts, ncap * sizeof(*n));

		if (n == NULL)
			return false;
		c->rcpts = n;
		c->caprcpts = ncap;
	}
	if ((copy = strdup(addr)) == NULL)
		return false;
	c->rcpts[c->nrcpts].op = op;
	c->rcpts[c->nrcpts].addr = copy;
	c->nrcpts++;
	return true;
}

bool
session_set_quarantine(struct session *s, const char *reason)
{
	char *copy = strdup(reason);

	if (copy == NULL)
		return false;
	free(s->changes.quarantine);
	s->changes.quarantine = copy;
	return true;
}

bool
session_monitored(const struct session *s, const char *by)
{
	return s->cfg->mode == MODE_MONITOR || strset_contains(s->cfg->monitor_checks, by);
}

bool
session_keep_rcpt(struct session *s)
{
	char *copy, *why = NULL;

	if (s->nrcpts == s->caprcpts) {
		size_t ncap = s->caprcpts ? s->caprcpts * 2 : 4;
		struct rcpt_entry *n = realloc(s->rcpts, ncap * sizeof(*n));

		if (n == NULL)
			return false;
		s->rcpts = n;
		s->caprcpts = ncap;
	}
	if ((copy = strdup(s->cur_rcpt)) == NULL)
		return false;
	if ((s->cur_rcpt_flags & (RCPT_TURF | RCPT_DROP)) && (why = strdup(s->cur_rcpt_why)) == NULL) {
		free(copy);
		return false;
	}
	s->rcpts[s->nrcpts].raw = copy;
	s->rcpts[s->nrcpts].flags = s->cur_rcpt_flags;
	s->rcpts[s->nrcpts].why = why;
	s->nrcpts++;
	return true;
}
