/*
 * iprev.c - the client's PTR names and their forward confirmation, looked
 * up in the background (see iprev.h).
 *
 * One object per connection.  References: one for the owner (the
 * session) and one per query in flight; callbacks run in the DNS
 * dispatcher thread and start the forward lookups themselves, so the chain
 * never needs the session's thread.  Everything below the mutex is shared;
 * the result is final once `complete` is set.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iprev.h"
#include "strbuf.h"

struct slot {
	struct dns_sub sub;
	struct iprev *ip;
	bool inflight;
};

struct iprev {
	struct dns *dns;
	struct ipaddr client;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool cancelled;			/* the owner is gone */
	bool ptr_done;
	bool complete;			/* result is final */
	struct dns_answer ptr;
	size_t nnames;			/* forward lookups started */
	size_t pending;			/* of those, still running */
	struct dns_answer fwd[IPREV_MAX_NAMES];
	struct slot slot[1 + IPREV_MAX_NAMES];	/* [0]: the PTR query */
	struct iprev_result result;
};

const char *
iprev_class_name(enum iprev_class c)
{
	static const char *const names[] = {"pass", "none", "forged", "temp"};

	return (unsigned)c < 4 ? names[c] : "?";
}

const char *
iprev_authres_name(enum iprev_class c)
{
	/* RFC 8601 2.7.3: no PTR data is a permerror, names that do not map back a fail. */
	static const char *const names[] = {"pass", "permerror", "fail", "temperror"};

	return (unsigned)c < 4 ? names[c] : "temperror";
}

static bool
answer_has_ip(const struct dns_answer *a, const struct ipaddr *ip)
{
	size_t i;

	if (a->status != DNS_OK)
		return false;
	for (i = 0; i < a->n; i++)
		if (ipaddr_equal(&a->rr[i].ip, ip))
			return true;
	return false;
}

void
iprev_classify(const struct dns_answer *ptr, const struct dns_answer *fwd, size_t n,
    const struct ipaddr *client, struct iprev_result *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->ptr = ptr->status;
	if (ptr->status == DNS_TEMP) {
		out->klass = IPREV_TEMP;
		out->why = ptr->why;
		return;
	}
	if (ptr->status != DNS_OK || ptr->n == 0) {
		out->klass = IPREV_NONE;
		return;
	}
	if (n > ptr->n)
		n = ptr->n;
	for (i = 0; i < n; i++) {
		if (answer_has_ip(&fwd[i], client)) {
			out->klass = IPREV_PASS;
			str_copy(out->name, sizeof(out->name), ptr->rr[i].text);
			return;
		}
	}
	out->klass = IPREV_FORGED;
	str_copy(out->name, sizeof(out->name), ptr->rr[0].text);
	for (i = 0; i < n; i++) {
		if (fwd[i].status == DNS_TEMP) {
			/* A name we could not look up might have confirmed. */
			out->klass = IPREV_TEMP;
			out->why = fwd[i].why;
			return;
		}
	}
}

/* ---- the object ---- */

static void
iprev_destroy(struct iprev *ip)
{
	size_t i;

	dns_answer_clear(&ip->ptr);
	for (i = 0; i < IPREV_MAX_NAMES; i++)
		dns_answer_clear(&ip->fwd[i]);
	pthread_cond_destroy(&ip->cv);
	pthread_mutex_destroy(&ip->mu);
	free(ip);
}

/* Drop one reference with IP->mu held; unlocks. */
static void
unref_unlock(struct iprev *ip)
{
	bool last = --ip->refs == 0;

	pthread_mutex_unlock(&ip->mu);
	if (last)
		iprev_destroy(ip);
}

/* Make the result final (IP->mu held). */
static void
finish(struct iprev *ip)
{
	iprev_classify(&ip->ptr, ip->fwd, ip->nnames, &ip->client, &ip->result);
	ip->complete = true;
	pthread_cond_broadcast(&ip->cv);
}

static void
fwd_done(void *arg, struct dns_answer *a)
{
	struct slot *sl = arg;
	struct iprev *ip = sl->ip;
	size_t i = (size_t)(sl - ip->slot) - 1;

	pthread_mutex_lock(&ip->mu);
	sl->inflight = false;
	ip->fwd[i] = *a;
	ip->pending--;
	/* A confirmed name decides at once; slower lookups are not waited for. */
	if (!ip->complete && !ip->cancelled &&
	    (ip->pending == 0 || answer_has_ip(&ip->fwd[i], &ip->client)))
		finish(ip);
	unref_unlock(ip);
}

/* Start the forward lookups of the PTR names (IP->mu held). */
static void
start_forward(struct iprev *ip)
{
	int type = ip->client.family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
	size_t i, n = ip->ptr.n < IPREV_MAX_NAMES ? ip->ptr.n : IPREV_MAX_NAMES;

	ip->nnames = n;
	for (i = 0; i < n; i++) {
		struct slot *sl = &ip->slot[1 + i];

		sl->ip = ip;
		sl->sub.done = fwd_done;
		sl->sub.arg = sl;
		if (dns_submit(ip->dns, ip->ptr.rr[i].text, type, &sl->sub)) {
			sl->inflight = true;
			ip->pending++;
			ip->refs++;
		} else {
			ip->fwd[i].status = dns_name_ok(ip->ptr.rr[i].text) ? DNS_TEMP : DNS_NXDOMAIN;
			ip->fwd[i].why = dns_name_ok(ip->ptr.rr[i].text) ? DNS_WHY_ERROR : DNS_WHY_BADNAME;
		}
	}
}

static void
ptr_done(void *arg, struct dns_answer *a)
{
	struct slot *sl = arg;
	struct iprev *ip = sl->ip;

	pthread_mutex_lock(&ip->mu);
	sl->inflight = false;
	ip->ptr = *a;
	ip->ptr_done = true;
	if (!ip->cancelled) {
		if (ip->ptr.status == DNS_OK)
			start_forward(ip);
		if (ip->pending == 0)
			finish(ip);
	}
	unref_unlock(ip);
}

/*
 * The whole result from the answer cache, when it holds the PTR and every
 * forward answer: no query, no other thread (dns.h dns_cached).  False,
 * with IP as it was, when anything is missing.
 */
static bool
from_cache(struct iprev *ip, const char *rev)
{
	int type = ip->client.family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
	size_t i, n;

	if (!dns_cached(ip->dns, rev, DNS_T_PTR, &ip->ptr))
		return false;
	n = ip->ptr.status != DNS_OK ? 0 : ip->ptr.n < IPREV_MAX_NAMES ? ip->ptr.n : IPREV_MAX_NAMES;
	for (i = 0; i < n; i++) {
		if (!dns_cached(ip->dns, ip->ptr.rr[i].text, type, &ip->fwd[i])) {
			while (i > 0)
				dns_answer_clear(&ip->fwd[--i]);
			dns_answer_clear(&ip->ptr);
			return false;
		}
	}
	ip->nnames = n;
	ip->ptr_done = true;
	finish(ip);
	return true;
}

struct iprev *
iprev_start(struct dns *dns, const struct ipaddr *client)
{
	struct iprev *ip;
	pthread_condattr_t ca;
	char rev[80];
	size_t i;

	if (dns == NULL || !ipaddr_reverse_name(client, rev, sizeof(rev)) ||
	    (ip = calloc(1, sizeof(*ip))) == NULL)
		return NULL;
	ip->dns = dns;
	ip->client = *client;
	ip->refs = 1;
	dns_answer_clear(&ip->ptr);
	for (i = 0; i < IPREV_MAX_NAMES; i++)
		dns_answer_clear(&ip->fwd[i]);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ip->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&ip->mu, NULL);
	ip->slot[0].ip = ip;
	ip->slot[0].sub.done = ptr_done;
	ip->slot[0].sub.arg = &ip->slot[0];
	pthread_mutex_lock(&ip->mu);
	if (from_cache(ip, rev)) {
		/* complete: nothing in flight */
	} else if (dns_submit(dns, rev, DNS_T_PTR, &ip->slot[0].sub)) {
		ip->slot[0].inflight = true;
		ip->refs++;
	} else {
		ip->ptr_done = true; /* ptr stays DNS_TEMP/DNS_WHY_ERROR */
		finish(ip);
	}
	pthread_mutex_unlock(&ip->mu);
	return ip;
}

void
iprev_wait(struct iprev *ip, const struct timespec *deadline, struct iprev_result *out)
{
	if (ip == NULL) {
		memset(out, 0, sizeof(*out));
		out->klass = IPREV_TEMP;
		out->ptr = DNS_TEMP;
		out->why = DNS_WHY_ERROR;
		return;
	}
	pthread_mutex_lock(&ip->mu);
	while (!ip->complete && pthread_cond_timedwait(&ip->cv, &ip->mu, deadline) != ETIMEDOUT)
		;
	if (ip->complete) {
		*out = ip->result;
	} else {
		memset(out, 0, sizeof(*out));
		out->klass = IPREV_TEMP;
		out->why = DNS_WHY_TIMEOUT;
		out->ptr = ip->ptr_done ? ip->ptr.status : DNS_TEMP;
		if (ip->ptr_done && ip->ptr.status == DNS_OK && ip->ptr.n > 0)
			str_copy(out->name, sizeof(out->name), ip->ptr.rr[0].text);
	}
	pthread_mutex_unlock(&ip->mu);
}

void
iprev_free(struct iprev *ip)
{
	size_t i;

	if (ip == NULL)
		return;
	pthread_mutex_lock(&ip->mu);
	ip->cancelled = true;
	for (i = 0; i < 1 + IPREV_MAX_NAMES; i++) {
		if (ip->slot[i].inflight && dns_cancel(ip->dns, &ip->slot[i].sub)) {
			ip->slot[i].inflight = false;
			ip->refs--;
		}
	}
	unref_unlock(ip);
}
