/*
 * loops.c - hop count, loop breaking, auto-reply control and the turf
 * sources (see loops.h).
 *
 * Memory per message is constant: the hop counter saturates at
 * max_hops + 1, the fingerprint is a running hash, and auto-reply
 * detection keeps one pointer to a static reason.  Header values are
 * looked at only as far as the first LOOP_FP_SUBJECT bytes (Subject) or
 * the first token (Auto-Submitted, Precedence), whatever their length.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loops.h"
#include "session_priv.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL
#define FULL_MAX   (CAP_LOCALPART_LEN + CAP_DOMAIN_LEN + 3) /* "local@domain", NUL */

static uint64_t
fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* "local@domain" of A, lowercased, into BUF ("" for <>). */
static void
addr_key(const struct addr *a, char *buf, size_t size)
{
	char tmp[FULL_MAX];

	if (a->flags & ADDR_NULL)
		tmp[0] = '\0';
	else
		snprintf(tmp, sizeof(tmp), "%s@%s", a->local, a->domain);
	str_lower_copy(buf, size, tmp);
}

/* Is A in SET as "user@domain" or as "@domain"? */
static bool
list_match(const struct strset *set, const struct addr *a)
{
	char full[FULL_MAX];

	if (strset_count(set) == 0 || (a->flags & (ADDR_NULL | ADDR_NO_DOMAIN | ADDR_LITERAL)))
		return false;
	snprintf(full, sizeof(full), "@%s", a->domain);
	if (strset_contains(set, full))
		return true;
	snprintf(full, sizeof(full), "%s@%s", a->local, a->domain);
	return strset_contains(set, full);
}

/* ---- turf sources ---- */

enum check_res
loops_mail_turf_sender(struct session *s, struct verdict *v)
{
	char shown[CAP_LOG_FIELD];
	struct strbuf sb;

	if (!list_match(s->cfg->turf_senders, &s->sender_addr))
		return CHECK_NEXT;
	strbuf_init(&sb, shown, sizeof(shown));
	strbuf_add_printable(&sb, s->sender, 200);
	v->action = ACT_TURF;
	session_note(v, "turf", "turf_senders %s", shown);
	return CHECK_DONE;
}

enum check_res
loops_rcpt_turf(struct session *s, struct verdict *v)
{
	/* A message turfed whole is never delivered: no unknown-user 550 (an NDR to feed a loop).
	 */
	if (s->mg.turf_all != ACT_CONTINUE) {
		session_note(v, "turf", "message turfed whole");
		return CHECK_DONE;
	}
	if (!list_match(s->cfg->blackhole_recipients, &s->cur_rcpt_addr))
		return CHECK_NEXT;
	v->action = ACT_TURF;
	session_note(v, "turf", "blackhole_recipients");
	return CHECK_DONE;
}

/* ---- headers ---- */

enum check_res
loops_header_hops(struct session *s, struct verdict *v)
{
	unsigned max = (unsigned)s->cfg->max_hops;

	if (max == 0 || !str_ieq(s->cur_hdr_name, "Received") || s->mg.hops > max)
		return CHECK_NEXT;
	/* Count no further than one past the limit (RFC 5321 6.3: a loop is refused). */
	if (++s->mg.hops <= max)
		return CHECK_NEXT;
	session_refuse(s, v, &s->cfg->hops_reply, "hops",
	               "more than %u Received: headers (max_hops)", max);
	return CHECK_DONE;
}

/* VALUE without leading and trailing blanks equals WANT (ASCII case ignored)? */
static bool
value_is(const char *value, const char *want)
{
	size_t n = strlen(want), len;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
	                   value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	return len == n && strncasecmp(value, want, n) == 0;
}

/* Is NAME: VALUE our loop_header? */
static bool
is_marker(const struct session *s, const char *name, const char *value)
{
	char want[80];
	const char *wv;

	return s->cfg->loop_header != NULL && config_loop_header(s->cfg, want, sizeof(want), &wv) &&
	       str_ieq(name, want) && value_is(value, wv);
}

enum check_res
loops_header_marker(struct session *s, struct verdict *v)
{
	char name[80];
	const char *value;

	if (!is_marker(s, s->cur_hdr_name, s->cur_hdr_value) || session_may_relay(s) ||
	    !config_loop_header(s->cfg, name, sizeof(name), &value))
		return CHECK_NEXT;
	session_refuse(s, v, &s->cfg->loop_reply, "loop", "inbound mail carries our %s header",
	               name);
	return CHECK_DONE;
}

/* The first token of VALUE (up to ";" or a blank) equals one of WANT? */
static bool
token_in(const char *value, const char *const *want)
{
	size_t n;

	while (*value == ' ' || *value == '\t')
		value++;
	n = strcspn(value, "; \t\r\n");
	for (; *want != NULL; want++)
		if (strlen(*want) == n && strncasecmp(value, *want, n) == 0)
			return true;
	return false;
}

void
loops_observe_header(struct session *s, const char *name, const char *value)
{
	static const char *const no[] = {"no", NULL};
	static const char *const bulk[] = {"auto_reply", "bulk", "junk", NULL};
	struct msg_guard *mg = &s->mg;

	if (!mg->has_marker && is_marker(s, name, value))
		mg->has_marker = true;
	if (!mg->have_subject && str_ieq(name, "Subject")) {
		size_t len = strnlen(value, LOOP_FP_SUBJECT);

		mg->have_subject = true;
		mg->fp = fnv(mg->fp, value, len);
	}
	if (mg->autoreply != NULL)
		return;
	/* RFC 3834 5: anything but "no" is automatic; Precedence and X-Auto* are older habits. */
	if (str_ieq(name, "Auto-Submitted") && !token_in(value, no))
		mg->autoreply = "Auto-Submitted";
	else if (str_ieq(name, "Precedence") && token_in(value, bulk))
		mg->autoreply = "Precedence";
	else if (str_ieq(name, "X-Autoreply") || str_ieq(name, "X-Autorespond"))
		mg->autoreply = str_ieq(name, "X-Autoreply") ? "X-Autoreply" : "X-Autorespond";
}

/* ---- body ---- */

bool
loops_observe_body(struct session *s, const unsigned char *chunk, size_t len)
{
	struct msg_guard *mg = &s->mg;
	size_t take = LOOP_FP_BODY - mg->fp_body;

	if (take > len)
		take = len;
	mg->fp = fnv(mg->fp, chunk, take);
	mg->fp_body += take;
	return mg->fp_body >= LOOP_FP_BODY;
}

bool
loops_repeat_pending(const struct session *s)
{
	return s->cfg->loop_max > 0 && !s->mg.loop_checked && !(s->skip & (1UL << CHK_LOOP)) &&
	       s->svc != NULL && s->svc->store != NULL;
}

/* ---- repeats ---- */

/* Store key for recipient I: a hash of sender, recipient and fingerprint. */
static void
repeat_key(const struct session *s, size_t i, const char *prefix, char *key, size_t size)
{
	char who[FULL_MAX];
	struct addr a;
	uint64_t h = FNV_OFFSET;

	addr_key(&s->sender_addr, who, sizeof(who));
	h = fnv(h, who, strlen(who) + 1);
	if (addr_parse(s->rcpts[i].raw, &a) == ADDR_OK)
		addr_key(&a, who, sizeof(who));
	else
		str_lower_copy(who, sizeof(who), s->rcpts[i].raw);
	h = fnv(h, who, strlen(who) + 1);
	h = fnv(h, &s->mg.fp, sizeof(s->mg.fp));
	snprintf(key, size, "%s:%016llx", prefix, (unsigned long long)h);
}

/* The repeat counter of recipient I: *LOOPING set when it is a loop, FIRST names its first message.
 */
static enum store_res
repeat_count(struct session *s, size_t i, bool *looping, char *first, size_t size)
{
	struct store *st = s->svc->store;
	const char *qid = session_macro(s, "i");
	long now = store_now_ms(), win = s->cfg->loop_window;
	char key[80], note[80];
	struct store_rate r;
	bool found;
	enum store_res res;

	*looping = false;
	repeat_key(s, i, "loop", key, sizeof(key));
	if ((res = store_rate_hit(st, key, (unsigned long)s->cfg->loop_max, win, 1, now, &r)) !=
	    STORE_OK)
		return res;
	repeat_key(s, i, "loopfirst", note, sizeof(note));
	if (r.allowed && r.used <= 1) /* the first copy in the window: remember which it was */
		return store_note_first(st, note, qid ? qid : "unknown", win, now, first, size);
	repeat_key(s, i, "looping", key, sizeof(key));
	if (r.allowed) {
		/* Under the limit again, but a loop seen in this window stays one. */
		if ((res = store_note_get(st, key, now, first, size, &found)) != STORE_OK || !found)
			return res;
	} else if ((res = store_note_first(st, key, "1", win, now, first, size)) != STORE_OK) {
		return res;
	}
	*looping = true;
	if ((res = store_note_get(st, note, now, first, size, &found)) == STORE_OK && !found)
		str_copy(first, size, "unknown");
	return res;
}

enum check_res
loops_repeats(struct session *s, struct verdict *v)
{
	char first[STORE_NOTE_MAX + 1], why[WHY_MAX];
	size_t i, n = 0;
	bool looping;

	if (!loops_repeat_pending(s))
		return CHECK_NEXT;
	s->mg.loop_checked = true;
	for (i = 0; i < s->nrcpts; i++) {
		struct rcpt_entry *r = &s->rcpts[i];

		if (r->flags & (RCPT_TURF | RCPT_DROP))
			continue; /* never delivered: it feeds no loop */
		if (repeat_count(s, i, &looping, first, sizeof(first)) != STORE_OK) {
			if (s->cfg->store_failure == STORE_FAILURE_TEMPFAIL) {
				session_refuse(s, v, &s->cfg->store_failure_reply, "loop",
				               "counter store unavailable");
				return CHECK_DONE;
			}
			return CHECK_NEXT; /* store_failure = accept: no opinion */
		}
		if (!looping)
			continue;
		snprintf(why, sizeof(why), "loop: more than %ld copies in %lds, first message %s",
		         s->cfg->loop_max, s->cfg->loop_window / 1000, first);
		free(r->why);
		r->why = strdup(why);
		r->flags |= RCPT_CAND;
		/*
		 * Without turf_dir a turf would drop the message with no copy.
		 * A detected loop is not the administrator's explicit choice, so
		 * keep "nothing is lost" (DESIGN): a 4xx leaves the copy in the
		 * sending queue and still breaks the ping-pong.
		 */
		if (s->cfg->turf_dir == NULL) {
			session_refuse(s, v, &s->cfg->loop_tempfail_reply, "loop",
			               "%s: more than %ld copies in %lds, first message %s; no turf_dir",
			               r->raw, s->cfg->loop_max, s->cfg->loop_window / 1000, first);
			return CHECK_DONE;
		}
		if (n++ == 0) {
			v->action = ACT_TURF;
			session_note(v, "loop",
			             "%s: more than %ld copies in %lds, first message %s", r->raw,
			             s->cfg->loop_max, s->cfg->loop_window / 1000, first);
		}
	}
	return n > 0 ? CHECK_DONE : CHECK_NEXT;
}

/* ---- auto-replies ---- */

/* Why this message counts as automatic (RFC 3834), or NULL. */
static const char *
autoreply_reason(const struct session *s)
{
	if (s->mg.autoreply != NULL)
		return s->mg.autoreply;
	return (s->sender_addr.flags & ADDR_NULL) ? "null sender" : NULL;
}

bool
loops_autoreply_possible(const struct session *s)
{
	size_t i;

	if (!s->cfg->block_external_autoreplies || (s->skip & (1UL << CHK_AUTOREPLY)) ||
	    !session_may_relay(s) || (s->mg.in_body && autoreply_reason(s) == NULL))
		return false;
	for (i = 0; i < s->nrcpts; i++)
		if (!(s->rcpts[i].flags & (RCPT_LOCAL | RCPT_TURF | RCPT_DROP)))
			return true;
	return false;
}

enum check_res
loops_autoreply(struct session *s, struct verdict *v)
{
	const char *why = autoreply_reason(s);
	size_t i;

	if (why == NULL || !loops_autoreply_possible(s))
		return CHECK_NEXT;
	/* Only recipients outside: internal recipients still get the reply. */
	for (i = 0; i < s->nrcpts; i++) {
		if (s->rcpts[i].flags & (RCPT_LOCAL | RCPT_TURF | RCPT_DROP))
			continue;
		s->rcpts[i].flags |= RCPT_CAND;
	}
	v->action = ACT_TURF;
	session_note(v, "autoreply", "automatic message (%s) from inside to outside", why);
	return CHECK_DONE;
}

/* ---- end of message ---- */

/* Is recipient I still going somewhere that is not ours? */
static bool
outward(const struct session *s, size_t i)
{
	return !(s->rcpts[i].flags & (RCPT_LOCAL | RCPT_TURF | RCPT_DROP));
}

bool
loops_eom_changes(struct session *s)
{
	const struct config *cfg = s->cfg;
	char name[80], rcpt[FULL_MAX + 2];
	const char *value;
	struct addr a, copy;
	size_t i;
	bool out = false, have = false;

	for (i = 0; i < s->nrcpts; i++)
		out = out || outward(s, i);
	/* Marked once: mail from inside that already carries it is not marked twice. */
	if (out && !s->mg.has_marker && config_loop_header(cfg, name, sizeof(name), &value) &&
	    !session_add_header(s, HDR_ADD, name, value, 0))
		return false;
	if (cfg->ndr_copy_to == NULL || !(s->sender_addr.flags & ADDR_NULL) ||
	    addr_parse(cfg->ndr_copy_to, &copy) != ADDR_OK)
		return true;
	/* A postmaster who is already a recipient gets one copy, not two. */
	for (i = 0; i < s->nrcpts; i++)
		have = have || (addr_parse(s->rcpts[i].raw, &a) == ADDR_OK &&
		                str_ieq(a.local, copy.local) && str_ieq(a.domain, copy.domain) &&
		                !(s->rcpts[i].flags & (RCPT_TURF | RCPT_DROP)));
	snprintf(rcpt, sizeof(rcpt), "<%s@%s>", copy.local, copy.domain);
	return have || session_add_rcpt_change(s, RCPT_ADD, rcpt);
}

unsigned
loops_needs(const struct config *cfg)
{
	bool turf = cfg->turf_dir != NULL && (strset_count(cfg->turf_senders) > 0 ||
	                                      strset_count(cfg->blackhole_recipients) > 0 ||
	                                      cfg->block_external_autoreplies || cfg->loop_max > 0);
	unsigned needs = 0;

	if (cfg->max_hops > 0 || cfg->loop_header != NULL || cfg->block_external_autoreplies ||
	    cfg->loop_max > 0 || turf)
		needs |= NEED_HEADERS;
	if (cfg->loop_max > 0 || turf)
		needs |= NEED_BODY;
	return needs;
}
