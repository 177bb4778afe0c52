/*
 * dnscache.c - parsed DNS answers kept for their TTL (see dnscache.h).
 *
 * Each slot owns its name and its copy of the answer.  A lookup copies the
 * answer out under the shard lock, so a slot replaced a moment later
 * never frees memory a reader still uses.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dnscache.h"

#define SHARDS 16

struct entry {
	char *name;		/* NULL: empty slot */
	int type;
	time_t expires;		/* CLOCK_MONOTONIC seconds */
	struct dns_answer ans;
};

struct shard {
	pthread_mutex_t mu;
	struct entry *slot;
};

struct dnscache {
	size_t per_shard;	/* a power of two */
	struct shard shard[SHARDS];
};

static time_t
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* FNV-1a over the lowercased name and the type. */
static uint64_t
key_hash(const char *name, int type)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *name != '\0'; name++) {
		unsigned char ch = (unsigned char)*name;

		h ^= (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
		h *= 1099511628211ULL;
	}
	h ^= (uint64_t)type;
	h *= 1099511628211ULL;
	return h;
}

/* A deep copy of SRC into *DST; false when out of memory (*DST then empty). */
static bool
answer_copy(const struct dns_answer *src, struct dns_answer *dst)
{
	size_t i;

	*dst = *src;
	dst->rr = NULL;
	dst->n = 0;
	if (src->n == 0)
		return true;
	if ((dst->rr = calloc(src->n, sizeof(*dst->rr))) == NULL)
		return false;
	for (; dst->n < src->n; dst->n++) {
		i = dst->n;
		dst->rr[i] = src->rr[i];
		if (src->rr[i].text == NULL)
			continue;
		/* TXT text may hold NUL bytes: copy len bytes and the terminator. */
		if ((dst->rr[i].text = malloc(src->rr[i].len + 1)) == NULL) {
			dns_answer_clear(dst);
			return false;
		}
		memcpy(dst->rr[i].text, src->rr[i].text, src->rr[i].len + 1);
	}
	return true;
}

/* Bytes of record data in A. */
static size_t
answer_bytes(const struct dns_answer *a)
{
	size_t i, n = a->n * sizeof(struct dns_rr);

	for (i = 0; i < a->n; i++)
		n += a->rr[i].len;
	return n;
}

static void
entry_clear(struct entry *e)
{
	free(e->name);
	e->name = NULL;
	dns_answer_clear(&e->ans);
}

struct dnscache *
dnscache_new(size_t slots)
{
	struct dnscache *c = calloc(1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return NULL;
	c->per_shard = 1;
	while (c->per_shard * SHARDS < slots)
		c->per_shard <<= 1;
	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&c->shard[i].mu, NULL);
		if ((c->shard[i].slot = calloc(c->per_shard, sizeof(struct entry))) == NULL) {
			dnscache_free(c);
			return NULL;
		}
	}
	return c;
}

void
dnscache_free(struct dnscache *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < SHARDS; i++) {
		if (c->shard[i].slot != NULL)
			for (j = 0; j < c->per_shard; j++)
				entry_clear(&c->shard[i].slot[j]);
		free(c->shard[i].slot);
		pthread_mutex_destroy(&c->shard[i].mu);
	}
	free(c);
}

/* The shard and slot of NAME/TYPE. */
static struct entry *
slot_of(struct dnscache *c, const char *name, int type, struct shard **sh)
{
	uint64_t h = key_hash(name, type);

	*sh = &c->shard[h % SHARDS];
	return &(*sh)->slot[(h / SHARDS) & (c->per_shard - 1)];
}

bool
dnscache_get(struct dnscache *c, const char *name, int type, struct dns_answer *out)
{
	struct shard *sh;
	struct entry *e;
	time_t now;
	bool hit = false;

	if (c == NULL)
		return false;
	now = now_seconds();
	e = slot_of(c, name, type, &sh);
	pthread_mutex_lock(&sh->mu);
	if (e->name != NULL && e->type == type && strcasecmp(e->name, name) == 0) {
		if (e->expires <= now)
			entry_clear(e);
		else if ((hit = answer_copy(&e->ans, out)))
			out->ttl = (unsigned)(e->expires - now);
	}
	pthread_mutex_unlock(&sh->mu);
	return hit;
}

void
dnscache_put(struct dnscache *c, const char *name, int type, const struct dns_answer *a)
{
	struct dns_answer copy;
	struct shard *sh;
	struct entry *e;
	unsigned ttl = a->ttl < DNSCACHE_MAX_TTL ? a->ttl : DNSCACHE_MAX_TTL;
	char *key;

	if (c == NULL || ttl == 0 || a->type != type ||
	    !(a->status == DNS_OK || a->status == DNS_NODATA || a->status == DNS_NXDOMAIN) ||
	    answer_bytes(a) > DNSCACHE_MAX_BYTES)
		return;
	if ((key = strdup(name)) == NULL)
		return;
	if (!answer_copy(a, &copy)) {
		free(key);
		return;
	}
	e = slot_of(c, name, type, &sh);
	pthread_mutex_lock(&sh->mu);
	entry_clear(e);
	e->name = key;
	e->type = type;
	e->expires = now_seconds() + (time_t)ttl;
	e->ans = copy;
	pthread_mutex_unlock(&sh->mu);
}
