/*
 * dispose.c - carrying out turfs and discards: the copy of a message kept
 * while a turf is still possible (in memory, then spilled to turf_dir/tmp,
 * never more than turf_max_size) and, at end of message, the decision
 * itself: the copy written with its envelope (turf.h) before the message
 * is dropped, the turfed recipients removed when only some were, a 451
 * when the copy cannot be written (DESIGN: nothing is lost), or the MTA's
 * quarantine when no complete copy exists.  See dispose.h.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide_priv.h"
#include "dispose.h"
#include "loops.h"
#include "session_priv.h"
#include "strbuf.h"
#include "turf.h"

/* Could this message still need a turf copy? */
static bool
copy_possible(const struct session *s)
{
	size_t i;

	if (s->cfg->turf_dir == NULL)
		return false; /* turf is then a plain discard */
	if (s->mg.turf_all == ACT_TURF || (s->snap->needs & NEED_TURF_COPY))
		return true;
	for (i = 0; i < s->nrcpts; i++)
		if (s->rcpts[i].flags & RCPT_TURF)
			return true;
	return loops_repeat_pending(s) || loops_autoreply_possible(s);
}

void
dispose_copy_start(struct session *s)
{
	if (s->mg.copy_started)
		return;
	s->mg.copy_started = true;
	if (copy_possible(s))
		s->mg.spool = turf_spool_new(s->cfg->turf_dir, (size_t)s->cfg->turf_max_size);
}

void
dispose_copy_update(struct session *s)
{
	if (s->mg.spool != NULL && !copy_possible(s)) {
		turf_spool_free(s->mg.spool);
		s->mg.spool = NULL;
	}
}

void
dispose_copy_add(struct session *s, const void *data, size_t len)
{
	enum turf_spool_state st;

	if (s->mg.spool == NULL)
		return;
	turf_spool_add(s->mg.spool, data, len);
	if ((st = turf_spool_state(s->mg.spool, &s->mg.copy_errno)) != SPOOL_OK) {
		s->mg.copy_lost = st;
		turf_spool_free(s->mg.spool);
		s->mg.spool = NULL;
	}
}

/* The "by" part of WHY ("loop" of "loop: more than ..."), its length. */
static size_t
why_by_len(const char *why)
{
	const char *sep = strstr(why, ": ");

	return sep ? (size_t)(sep - why) : strlen(why);
}

/*
 * What decided the turf, and whom it concerns, into V's by and detail:
 * the first reason decides; each recipient is listed with its reason
 * (just the detail when it is the same decider).
 */
static void
describe_turf(struct session *s, bool whole, size_t nturf, struct verdict *v)
{
	const char *first = s->mg.turf_all != ACT_CONTINUE ? s->mg.turf_why : NULL;
	char detail[CAP_DETAIL];
	struct strbuf sb;
	size_t i, n;

	for (i = 0; first == NULL && i < s->nrcpts; i++)
		if (s->rcpts[i].flags & (RCPT_TURF | RCPT_DROP))
			first = s->rcpts[i].why ? s->rcpts[i].why : "turf";
	n = why_by_len(first);
	snprintf(v->by, sizeof(v->by), "%.*s", (int)n, first);
	strbuf_init(&sb, detail, sizeof(detail));
	if (s->mg.turf_all != ACT_CONTINUE) {
		strbuf_add(&sb, first[n] ? first + n + 2 : "");
		str_copy(v->detail, sizeof(v->detail), detail);
		return;
	}
	if (!whole)
		strbuf_addf(&sb, "%zu of %zu recipients: ", nturf, s->nrcpts);
	for (i = 0; i < s->nrcpts; i++) {
		const struct rcpt_entry *r = &s->rcpts[i];
		const char *why = r->why ? r->why : "turf";

		if (!(r->flags & (RCPT_TURF | RCPT_DROP)))
			continue;
		if (sb.len > 0 && detail[sb.len - 1] != ' ')
			strbuf_add(&sb, "; ");
		strbuf_add_printable(&sb, r->raw, 128);
		if (why_by_len(why) == n && strncmp(why, first, n) == 0)
			why = why[n] ? why + n + 2 : why;
		strbuf_addf(&sb, " (%s)", why);
	}
	str_copy(v->detail, sizeof(v->detail), detail);
}

/* Append " copy=ID" (or another note) to V's detail. */
static void
detail_add(struct verdict *v, const char *fmt, const char *arg)
{
	size_t len = strlen(v->detail);

	snprintf(v->detail + len, sizeof(v->detail) - len, fmt, arg);
}

/* No complete copy: hold the message in the MTA rather than keep a cut one (false: no memory). */
static bool
quarantine_instead(struct session *s, struct verdict *v)
{
	const char *why = s->mg.copy_lost == SPOOL_OVER ? "over turf_max_size" : "no copy was kept";
	char reason[CAP_REPLY_TEXT];

	snprintf(reason, sizeof(reason), "relayguard: %s: %s; %s", v->by, v->detail, why);
	if (!session_set_quarantine(s, reason))
		return false;
	v->action = ACT_QUARANTINE;
	str_copy(v->reason, sizeof(v->reason), reason);
	detail_add(v, "; %s, held in the MTA", why);
	return true;
}

/* Write the spool with the envelope (turf.h); false with ERR set. */
static bool
write_copy(struct session *s, bool whole, const struct verdict *v, char *err, size_t errsize)
{
	const char **rcpts = calloc(s->nrcpts + 1, sizeof(*rcpts));
	bool *turfed = calloc(s->nrcpts + 1, sizeof(*turfed)), ok = false;
	char client[CAP_DOMAIN_LEN + IPADDR_TEXT + 8];
	struct turf_envelope env;
	size_t i;

	if (rcpts != NULL && turfed != NULL) {
		snprintf(client, sizeof(client), "%s [%s]",
		    s->client_name[0] ? s->client_name : "unknown",
		    s->have_client ? s->client_addr : "unknown");
		for (i = 0; i < s->nrcpts; i++) {
			unsigned f = s->rcpts[i].flags;

			rcpts[i] = s->rcpts[i].raw;
			turfed[i] = whole ? !(f & RCPT_DROP) : !!(f & RCPT_TURF);
		}
		env = (struct turf_envelope){v->by, v->detail, session_macro(s, "i"), client,
			s->have_helo ? s->helo : NULL, s->sender, rcpts, turfed, s->nrcpts,
			time(NULL)};
		ok = turf_commit(s->cfg->turf_dir, s->mg.spool, &env, s->mg.turf_id,
		    sizeof(s->mg.turf_id), err, errsize);
	}
	free(rcpts);
	free(turfed);
	return ok;
}

/*
 * Write the copy; false when the message was decided otherwise instead,
 * with V recorded: 451 4.3.0 when the copy could not be written (nothing
 * is lost: the sender keeps the message and tries again), quarantine when
 * there is no complete copy to write.
 */
static bool
keep_copy(struct session *s, bool whole, struct verdict *v)
{
	static const struct reply_tmpl failed = {"451", "4.3.0",
		"Temporary local problem: cannot keep a copy, try again later"};
	char err[300] = "out of memory", by[CAP_DECIDER];

	if (s->mg.spool != NULL) {
		if (write_copy(s, whole, v, err, sizeof(err))) {
			detail_add(v, " copy=%s", s->mg.turf_id);
			return true;
		}
	} else if (s->mg.copy_lost == SPOOL_FAILED) {
		snprintf(err, sizeof(err), "%s", strerror(s->mg.copy_errno));
	} else if (quarantine_instead(s, v)) {
		decide_record(s, v);
		return false;
	}
	str_copy(by, sizeof(by), v->by);
	session_refuse(s, v, &failed, by, "cannot keep a copy in turf_dir: %s", err);
	decide_record(s, v);
	return false;
}

bool
dispose_execute(struct session *s, struct verdict *v)
{
	size_t i, nturf = 0, ncopy = 0;
	bool whole, copy;

	for (i = 0; i < s->nrcpts; i++) {
		nturf += (s->rcpts[i].flags & (RCPT_TURF | RCPT_DROP)) != 0;
		ncopy += (s->rcpts[i].flags & RCPT_TURF) != 0;
	}
	whole = s->mg.turf_all != ACT_CONTINUE || (s->nrcpts > 0 && nturf == s->nrcpts);
	if (!whole && nturf == 0)
		return false;
	copy = s->mg.turf_all == ACT_TURF || ncopy > 0;
	verdict_clear(v);
	describe_turf(s, whole, nturf, v);
	if (copy && s->cfg->turf_dir == NULL)
		detail_add(v, "%s", "; no turf_dir: no copy kept");
	else if (copy && !keep_copy(s, whole, v))
		return true;
	v->action = copy && s->cfg->turf_dir != NULL ? ACT_TURF : ACT_DISCARD;
	if (!whole) {
		for (i = 0; i < s->nrcpts; i++)
			if ((s->rcpts[i].flags & (RCPT_TURF | RCPT_DROP)) &&
			    !session_add_rcpt_change(s, RCPT_DEL, s->rcpts[i].raw)) {
				decide_internal_error(s, v, "out of memory removing a recipient");
				decide_record(s, v);
				return true;
			}
	}
	decide_record(s, v);
	if (whole)
		return true;
	v->action = ACT_CONTINUE;
	return false;
}
