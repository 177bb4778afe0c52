/*
 * flood.c - flood and DoS limits (see flood.h).
 *
 * Store keys: "conn:", "crate:", "msg:", "rcpt:", "bad:" and "pen:"
 * (the penalty note) followed by the client's group, and "umsg:",
 * "urcpt:" followed by the user name (a hash of it when it is too long
 * for a key).  Every key expires by itself, so the store never holds
 * more than the clients of the last window.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flood.h"
#include "services.h"
#include "session_priv.h"
#include "strbuf.h"

/*
 * A concurrency count expires this long after its last change, so the
 * counts of a daemon that died with connections open fade away once the
 * client has been quiet for that long.
 */
#define GAUGE_TTL_MS (10L * 60 * 1000)

static struct store *
store_of(const struct session *s)
{
	return s->svc != NULL ? s->svc->store : NULL;
}

/* "30s", "10m", "1h", "250ms": the largest unit that divides MS exactly. */
static void
fmt_duration(long ms, char *buf, size_t size)
{
	static const struct {
		long ms;
		const char *unit;
	} units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			snprintf(buf, size, "%ld%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%ldms", ms);
}

/* A wait rounded up to whole seconds (ms below one second). */
static void
fmt_wait(long ms, char *buf, size_t size)
{
	fmt_duration(ms < 1000 ? ms : (ms + 999) / 1000 * 1000, buf, size);
}

/* The client's counting group: its address, or its network of limit_*_prefix bits. */
static const char *
client_group(struct session *s)
{
	struct ipaddr ip;
	long bits, total;
	size_t len;

	if (s->client_key[0] != '\0' || !s->have_client)
		return s->client_key;
	ip = s->client;
	total = ip.family == AF_INET ? 32 : 128;
	bits = ip.family == AF_INET ? s->cfg->limit_ipv4_prefix : s->cfg->limit_ipv6_prefix;
	ipaddr_mask(&ip, (unsigned)bits);
	ipaddr_format(&ip, s->client_key, sizeof(s->client_key));
	len = strlen(s->client_key);
	if (bits < total)
		snprintf(s->client_key + len, sizeof(s->client_key) - len, "/%ld", bits);
	return s->client_key;
}

/* Is the client spared by LIM?  Clients without an address cannot be counted. */
static bool
client_exempt(const struct session *s, const struct client_limit *lim)
{
	if (!s->have_client)
		return true;
	if (lim->exempt == NULL)
		return session_is_trusted(s);
	return cidrset_contains(lim->exempt, &s->client);
}

/* The authenticated user, or NULL. */
static const char *
auth_user(const struct session *s)
{
	const char *u = session_macro(s, "{auth_authen}");

	return u != NULL && *u != '\0' ? u : NULL;
}

/*
 * The store id of USER: the name in lowercase (most SASL back ends take
 * "Alice" for "alice", so case must not split the count), or "#" and a
 * hash when it would not fit in a key.
 */
static void
user_id(const char *user, char *buf, size_t size)
{
	uint64_t h = 14695981039346656037ULL;
	const char *p;

	if (strlen(user) + 8 < STORE_KEY_MAX && strlen(user) < size) {
		str_lower_copy(buf, size, user);
		return;
	}
	for (p = user; *p != '\0'; p++) {
		h ^= (unsigned char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		h *= 1099511628211ULL;
	}
	snprintf(buf, size, "#%016llx", (unsigned long long)h);
}

/* The user as shown in counter lines and logs: printable, cut. */
static void
user_shown(const char *user, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add_printable(&sb, user, 64);
}

/* The store did not answer: store_failure decides. */
static enum check_res
unavailable(struct session *s, struct verdict *v, const char *name, const char *shown)
{
	bool tempfail = s->cfg->store_failure == STORE_FAILURE_TEMPFAIL;

	session_counter(s, "%s[%s] = unavailable (store_failure = %s)", name, shown,
	    tempfail ? "tempfail" : "accept");
	if (!tempfail)
		return CHECK_NEXT;
	session_refuse(s, v, &s->cfg->store_failure_reply, "limits", "%s %s: counter store unavailable",
	    name, shown);
	return CHECK_DONE;
}

/* One event of the rate NAME for store key PREFIX:ID; refused with REPLY past the limit. */
static enum check_res
rate_check(struct session *s, struct verdict *v, const char *name, const char *prefix,
    const char *id, const char *shown, const struct rate_spec *rate, const struct reply_tmpl *reply)
{
	char key[STORE_KEY_MAX + 1], win[24], wait[24];
	struct store *st = store_of(s);
	struct store_rate r;

	snprintf(key, sizeof(key), "%s:%s", prefix, id);
	if (st == NULL || store_rate_hit(st, key, (unsigned long)rate->limit, rate->window_ms, 1,
			      services_now_ms(s->svc), &r) != STORE_OK)
		return unavailable(s, v, name, shown);
	fmt_duration(rate->window_ms, win, sizeof(win));
	session_counter(s, "%s[%s] = %lu of %ld per %s", name, shown, r.used, rate->limit, win);
	if (r.allowed)
		return CHECK_NEXT;
	fmt_wait(r.retry_ms, wait, sizeof(wait));
	session_refuse(s, v, reply, "limits", "%s %s: %lu of %ld per %s, room again in %s", name,
	    shown, r.used, rate->limit, win, wait);
	return CHECK_DONE;
}

/* A per-client rate LIM named NAME under store prefix PREFIX. */
static enum check_res
client_rate(struct session *s, struct verdict *v, const char *name, const char *prefix,
    const struct client_limit *lim)
{
	const char *group;

	if (lim->rate.limit == 0 || client_exempt(s, lim))
		return CHECK_NEXT;
	group = client_group(s);
	return rate_check(s, v, name, prefix, group, group, &lim->rate, &lim->reply);
}

/* A per-user rate LIM named NAME under store prefix PREFIX. */
static enum check_res
user_rate(struct session *s, struct verdict *v, const char *name, const char *prefix,
    const struct user_limit *lim)
{
	const char *user = auth_user(s);
	char id[STORE_KEY_MAX], shown[CAP_LOG_FIELD];

	if (lim->rate.limit == 0 || user == NULL || strset_contains(lim->exempt, user))
		return CHECK_NEXT;
	user_id(user, id, sizeof(id));
	user_shown(user, shown, sizeof(shown));
	return rate_check(s, v, name, prefix, id, shown, &lim->rate, &lim->reply);
}

/* A client past client_bad_recipients gets 421 at everything until the penalty ends. */
static enum check_res
penalty(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->client_bad_recipients;
	char key[STORE_KEY_MAX + 1], note[STORE_NOTE_MAX + 1];
	struct store *st = store_of(s);
	const char *group;
	bool found = false;

	if (lim->rate.limit == 0 || client_exempt(s, lim))
		return CHECK_NEXT;
	group = client_group(s);
	snprintf(key, sizeof(key), "pen:%s", group);
	if (st == NULL ||
	    store_note_get(st, key, services_now_ms(s->svc), note, sizeof(note), &found) != STORE_OK)
		return unavailable(s, v, "client_bad_recipients_penalty", group);
	if (!found)
		return CHECK_NEXT;
	session_counter(s, "client_bad_recipients_penalty[%s] = %s", group, note);
	session_refuse(s, v, &lim->reply, "limits", "client_bad_recipients %s: penalty (%s)", group, note);
	return CHECK_DONE;
}

/* Count this connection; refuse it when the client has more open than client_connections. */
static enum check_res
concurrency(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->client_connections;
	char key[STORE_KEY_MAX + 1];
	struct store *st = store_of(s);
	const char *group;
	long n;

	if (lim->max == 0 || client_exempt(s, lim))
		return CHECK_NEXT;
	group = client_group(s);
	snprintf(key, sizeof(key), "conn:%s", group);
	if (st == NULL || store_gauge_add(st, key, 1, GAUGE_TTL_MS, services_now_ms(s->svc), &n) != STORE_OK)
		return unavailable(s, v, "client_connections", group);
	/* counted even when refused: the connection exists until the MTA closes it */
	s->conn_counted = true;
	session_counter(s, "client_connections[%s] = %ld of %ld", group, n, lim->max);
	if (n <= lim->max)
		return CHECK_NEXT;
	session_refuse(s, v, &lim->reply, "limits", "client_connections %s: %ld open, limit %ld", group,
	    n, lim->max);
	return CHECK_DONE;
}

enum check_res
flood_connect(struct session *s, struct verdict *v)
{
	if (penalty(s, v) == CHECK_DONE || concurrency(s, v) == CHECK_DONE)
		return CHECK_DONE;
	return client_rate(s, v, "client_connection_rate", "crate", &s->cfg->client_connection_rate);
}

/* MAIL ... SIZE=n over max_message_size (RFC 1870 6.1: 552 early, before any data). */
static enum check_res
declared_size(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->max_message_size;
	char *const *a;

	if (lim->max == 0 || s->cur_args == NULL || client_exempt(s, lim))
		return CHECK_NEXT;
	for (a = s->cur_args; *a != NULL; a++) {
		unsigned long long n;
		char *end;

		if (strncasecmp(*a, "SIZE=", 5) != 0 || (*a)[5] < '0' || (*a)[5] > '9')
			continue;
		errno = 0;
		n = strtoull(*a + 5, &end, 10);
		if (errno == 0 && n <= (unsigned long long)lim->max)
			return CHECK_NEXT;
		session_refuse(s, v, &lim->reply, "limits", "max_message_size: SIZE=%.20s is over %ld",
		    *a + 5, lim->max);
		return CHECK_DONE;
	}
	return CHECK_NEXT;
}

enum check_res
flood_mail(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;

	if (penalty(s, v) == CHECK_DONE || declared_size(s, v) == CHECK_DONE ||
	    client_rate(s, v, "client_message_rate", "msg", &cfg->client_message_rate) == CHECK_DONE)
		return CHECK_DONE;
	return user_rate(s, v, "user_message_rate", "umsg", &cfg->user_message_rate);
}

enum check_res
flood_rcpt_first(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->max_recipients;

	if (penalty(s, v) == CHECK_DONE)
		return CHECK_DONE;
	/* RFC 5321 4.5.3.1.10: 452 for the recipients past the limit, not the whole message */
	if (lim->max > 0 && (long)s->nrcpts >= lim->max && !client_exempt(s, lim)) {
		session_refuse(s, v, &lim->reply, "limits", "max_recipients: %zu accepted, limit %ld",
		    s->nrcpts, lim->max);
		return CHECK_DONE;
	}
	return CHECK_NEXT;
}

enum check_res
flood_rcpt_last(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;

	if (client_rate(s, v, "client_recipient_rate", "rcpt", &cfg->client_recipient_rate) == CHECK_DONE)
		return CHECK_DONE;
	return user_rate(s, v, "user_recipient_rate", "urcpt", &cfg->user_recipient_rate);
}

bool
flood_body_wanted(const struct session *s)
{
	return s->cfg->max_message_size.max > 0 && !client_exempt(s, &s->cfg->max_message_size);
}

enum check_res
flood_eom(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->max_message_size;

	if (lim->max == 0 || s->msg_bytes <= (unsigned long)lim->max || client_exempt(s, lim))
		return CHECK_NEXT;
	session_refuse(s, v, &lim->reply, "limits",
	    "max_message_size: %lu bytes of header and body, over %ld", s->msg_bytes, lim->max);
	return CHECK_DONE;
}

/* Past client_bad_recipients: the penalty note (first one wins) and, for our own refusal, the 421. */
static void
start_penalty(struct session *s, struct verdict *v, const struct store_rate *r, const char *win)
{
	const struct client_limit *lim = &s->cfg->client_bad_recipients;
	char key[STORE_KEY_MAX + 1], note[STORE_NOTE_MAX + 1], was[STORE_NOTE_MAX + 1], pen[24];
	long ttl = s->cfg->client_bad_recipients_penalty;
	char before[CAP_DECIDER + 8];

	fmt_duration(ttl, pen, sizeof(pen));
	snprintf(note, sizeof(note), "reached %lu of %ld per %s; 421 for %s", r->used, lim->rate.limit,
	    win, pen);
	snprintf(key, sizeof(key), "pen:%s", s->client_key);
	if (store_note_first(store_of(s), key, note, ttl, services_now_ms(s->svc), was, sizeof(was)) ==
	    STORE_OK)
		session_counter(s, "client_bad_recipients_penalty[%s] = %s", s->client_key, was);
	if (v == NULL)
		return;
	snprintf(before, sizeof(before), "%s %s", v->reply.code, v->by);
	session_refuse(s, v, &lim->reply, "limits",
	    "client_bad_recipients %s: %lu of %ld per %s; penalty %s (instead of %s)", s->client_key,
	    r->used, lim->rate.limit, win, pen, before);
}

/*
 * Count one bad recipient; past the limit, start the penalty and, when V
 * is given (our own refusal), answer 421 instead.  A store failure never
 * changes V: the recipient is refused anyway.
 */
static void
bad_recipient(struct session *s, struct verdict *v)
{
	const struct client_limit *lim = &s->cfg->client_bad_recipients;
	char key[STORE_KEY_MAX + 1], win[24];
	struct store *st = store_of(s);
	const char *group;
	struct store_rate r;

	if (lim->rate.limit == 0 || (s->skip & (1UL << CHK_LIMITS)) || client_exempt(s, lim))
		return;
	group = client_group(s);
	snprintf(key, sizeof(key), "bad:%s", group);
	if (st == NULL || store_rate_hit(st, key, (unsigned long)lim->rate.limit, lim->rate.window_ms, 1,
			      services_now_ms(s->svc), &r) != STORE_OK) {
		session_counter(s, "client_bad_recipients[%s] = unavailable (not counted)", group);
		return;
	}
	fmt_duration(lim->rate.window_ms, win, sizeof(win));
	session_counter(s, "client_bad_recipients[%s] = %lu of %ld per %s", group, r.used,
	    lim->rate.limit, win);
	if (!r.allowed)
		start_penalty(s, v, &r, win);
}

void
flood_rcpt_refused(struct session *s, struct verdict *v)
{
	if (v->action == ACT_REJECT && v->reply.code[0] == '5')
		bad_recipient(s, v);
}

void
flood_rcpt_mta_refused(struct session *s)
{
	const char *status = session_macro(s, "{rcpt_host}");

	/* Postfix puts the enhanced status of its own refusal there (5.1.1, 4.1.1) */
	if (status == NULL || status[0] != '4')
		bad_recipient(s, NULL);
}

void
flood_close(struct session *s)
{
	char key[STORE_KEY_MAX + 1];
	struct store *st = store_of(s);
	long n;

	if (!s->conn_counted || st == NULL)
		return;
	s->conn_counted = false;
	snprintf(key, sizeof(key), "conn:%s", s->client_key);
	/* a failure leaves the count to expire with GAUGE_TTL_MS */
	if (store_gauge_add(st, key, -1, GAUGE_TTL_MS, services_now_ms(s->svc), &n) == STORE_OK)
		session_counter(s, "client_connections[%s] = %ld of %ld", s->client_key, n,
		    s->cfg->client_connections.max);
}
