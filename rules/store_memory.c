/*
 * store_memory.c - the embedded counter store (see store.h).
 *
 * 64 shards, each a linear-probing hash table behind its own mutex, so
 * threads working on different keys rarely meet.  Tables never exceed half
 * full.  An expired entry reads as absent.  Expired entries are also swept
 * as new keys arrive: each new key first looks at a few entries after a
 * rotating cursor and frees the expired ones, so memory follows the live
 * keys rather than filling to the bound; the expiry times live in an array
 * of their own, so that this look costs a few cache lines, not one per
 * entry.  A full shard evicts, among up to
 * 16 entries sampled from the cursor, an expired one or else the one that
 * expires soonest.  Memory is bounded by max_entries: about 100 bytes plus
 * the key each.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"
#include "strbuf.h"

#define NSHARDS 64
#define EVICT_SAMPLE 16
#define SWEEP_SAMPLE 64

enum kind { K_RATE = 1, K_GAUGE, K_NOTE };

struct entry {
	char *key;		/* NULL: free slot */
	uint64_t hash;
	enum kind kind;
	long value;		/* K_RATE: TAT in microseconds; K_GAUGE: the value */
	char *note;		/* K_NOTE */
};

struct shard {
	pthread_mutex_t lock;
	struct entry *slots;
	long *exp;		/* slot i expires at exp[i] (ms), 0 for a free slot: kept apart
				 * from the entries so that the sweep reads 8 bytes a slot */
	size_t nslots, n, max, cursor;
};

struct memstore {
	struct store base;
	struct shard shard[NSHARDS];
};

static uint64_t
key_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	/* FNV's top bits are poorly mixed for short keys such as "c:1", "c:2":
	 * finish with the MurmurHash3 fmix64 so the shard bits are uniform. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void
entry_clear(struct entry *e)
{
	free(e->key);
	free(e->note);
	memset(e, 0, sizeof(*e));
}

/* Remove slot I, shifting later members of its probe run back (no tombstones). */
static void
shard_delete(struct shard *sh, size_t i)
{
	size_t mask = sh->nslots - 1, j = i;

	entry_clear(&sh->slots[i]);
	sh->exp[i] = 0;
	sh->n--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (sh->slots[j].key == NULL)
			return;
		home = sh->slots[j].hash & mask;
		/* move j into the hole at i if its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			sh->slots[i] = sh->slots[j];
			sh->exp[i] = sh->exp[j];
			memset(&sh->slots[j], 0, sizeof(sh->slots[j]));
			sh->exp[j] = 0;
			i = j;
		}
	}
}

static void
shard_evict_one(struct shard *sh, long now)
{
	size_t seen = 0, best = SIZE_MAX, i, k;

	for (k = 0; k < sh->nslots && seen < EVICT_SAMPLE; k++) {
		i = (sh->cursor + k) & (sh->nslots - 1);
		if (sh->slots[i].key == NULL)
			continue;
		seen++;
		if (sh->exp[i] <= now) {
			best = i;
			break;
		}
		if (best == SIZE_MAX || sh->exp[i] < sh->exp[best])
			best = i;
	}
	sh->cursor = (sh->cursor + k) & (sh->nslots - 1);
	if (best != SIZE_MAX)
		shard_delete(sh, best);
}

static struct entry *shard_find_at(struct shard *sh, const char *key, enum kind kind, long now,
    bool create, bool swept);

static struct entry *
shard_find(struct shard *sh, const char *key, enum kind kind, long now, bool create)
{
	return shard_find_at(sh, key, kind, now, create, false);
}

/*
 * Free the expired entries among the SWEEP_SAMPLE slots after the cursor
 * (a deletion shifts the next entry of the run into the slot, so the slot
 * is looked at again); true if any was freed.
 */
static bool
shard_sweep(struct shard *sh, long now)
{
	size_t k, i;
	bool freed = false;

	for (k = 0; k < SWEEP_SAMPLE; k++) {
		i = (sh->cursor + k) & (sh->nslots - 1);
		while (sh->exp[i] != 0 && sh->exp[i] <= now) {
			shard_delete(sh, i);
			freed = true;
		}
	}
	sh->cursor = (sh->cursor + k) & (sh->nslots - 1);
	return freed;
}

/*
 * Find KEY of KIND; with CREATE, make it (evicting if full).  An expired or
 * other-kind entry is reset.  NULL when absent (or out of memory).
 */
static struct entry *
shard_find_at(struct shard *sh, const char *key, enum kind kind, long now, bool create, bool swept)
{
	uint64_t h = key_hash(key);
	size_t mask = sh->nslots - 1, i = h & mask;
	struct entry *e;

	for (; sh->slots[i].key != NULL; i = (i + 1) & mask) {
		e = &sh->slots[i];
		if (e->hash != h || strcmp(e->key, key) != 0)
			continue;
		if (e->kind == kind && sh->exp[i] > now)
			return e;
		if (!create) {
			shard_delete(sh, i);
			return NULL;
		}
		free(e->note);
		e->note = NULL;
		e->kind = kind;
		e->value = 0;
		return e;
	}
	if (!create)
		return NULL;
	/* A deletion shifts probe runs: look again from scratch after one (once). */
	if (!swept && sh->n > 0 && shard_sweep(sh, now))
		return shard_find_at(sh, key, kind, now, true, true);
	if (sh->n >= sh->max) {
		shard_evict_one(sh, now);
		return shard_find_at(sh, key, kind, now, true, true);
	}
	e = &sh->slots[i];
	if ((e->key = strdup(key)) == NULL)
		return NULL;
	e->hash = h;
	e->kind = kind;
	e->value = 0;
	e->note = NULL;
	sh->n++;
	return e;
}

/* Set E's expiry. */
static void
entry_expires(struct shard *sh, struct entry *e, long ms)
{
	sh->exp[e - sh->slots] = ms;
}

static struct shard *
shard_of(struct store *st, const char *key)
{
	return &((struct memstore *)st)->shard[key_hash(key) >> 58];
}

static enum store_res
mem_rate(struct store *st, const char *key, unsigned long limit, long window_ms, unsigned cost,
    long now_ms, bool count, struct store_rate *out)
{
	struct shard *sh = shard_of(st, key);
	struct entry *e;
	long tat;

	pthread_mutex_lock(&sh->lock);
	e = shard_find(sh, key, K_RATE, now_ms, false);
	tat = store_gcra(e ? e->value : 0, limit, window_ms, count ? cost : 1, now_ms, out);
	if (count && out->allowed && (e != NULL || (e = shard_find(sh, key, K_RATE, now_ms, true)) != NULL)) {
		e->value = tat;
		entry_expires(sh, e, tat / 1000 + 1);
	}
	if (!count && out->allowed)
		out->used--; /* a peek does not count the event it asked about */
	pthread_mutex_unlock(&sh->lock);
	return STORE_OK;
}

static enum store_res
mem_gauge_add(struct store *st, const char *key, long delta, long ttl_ms, long now_ms, long *value)
{
	struct shard *sh = shard_of(st, key);
	struct entry *e;

	pthread_mutex_lock(&sh->lock);
	e = shard_find(sh, key, K_GAUGE, now_ms, true);
	if (e != NULL) {
		e->value += delta;
		if (e->value < 0)
			e->value = 0;
		entry_expires(sh, e, now_ms + ttl_ms);
		*value = e->value;
	}
	pthread_mutex_unlock(&sh->lock);
	return e != NULL ? STORE_OK : STORE_UNAVAILABLE;
}

static enum store_res
mem_note_first(struct store *st, const char *key, const char *value, long ttl_ms, long now_ms,
    char *out, size_t size)
{
	struct shard *sh = shard_of(st, key);
	struct entry *e;

	pthread_mutex_lock(&sh->lock);
	e = shard_find(sh, key, K_NOTE, now_ms, true);
	if (e != NULL && e->note == NULL) {
		char cut[STORE_NOTE_MAX + 1];

		str_copy(cut, sizeof(cut), value);
		e->note = strdup(cut);
		entry_expires(sh, e, now_ms + ttl_ms);
	}
	if (e != NULL && e->note != NULL)
		str_copy(out, size, e->note);
	pthread_mutex_unlock(&sh->lock);
	return e != NULL && e->note != NULL ? STORE_OK : STORE_UNAVAILABLE;
}

static enum store_res
mem_note_get(struct store *st, const char *key, long now_ms, char *out, size_t size, bool *found)
{
	struct shard *sh = shard_of(st, key);
	struct entry *e;

	pthread_mutex_lock(&sh->lock);
	e = shard_find(sh, key, K_NOTE, now_ms, false);
	if (e != NULL && e->note != NULL) {
		str_copy(out, size, e->note);
		*found = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return STORE_OK;
}

static size_t
mem_count(struct store *st)
{
	struct memstore *ms = (struct memstore *)st;
	size_t i, n = 0;

	for (i = 0; i < NSHARDS; i++) {
		pthread_mutex_lock(&ms->shard[i].lock);
		n += ms->shard[i].n;
		pthread_mutex_unlock(&ms->shard[i].lock);
	}
	return n;
}

static void
mem_destroy(struct store *st)
{
	struct memstore *ms = (struct memstore *)st;
	size_t i, j;

	for (i = 0; i < NSHARDS; i++) {
		for (j = 0; j < ms->shard[i].nslots; j++)
			entry_clear(&ms->shard[i].slots[j]);
		free(ms->shard[i].slots);
		free(ms->shard[i].exp);
		pthread_mutex_destroy(&ms->shard[i].lock);
	}
	free(ms);
}

static const struct store_ops mem_ops = {
	mem_rate, mem_gauge_add, mem_note_first, mem_note_get, mem_count, mem_destroy,
};

struct store *
store_memory_new(size_t max_entries)
{
	struct memstore *ms = calloc(1, sizeof(*ms));
	size_t per, slots, i;

	if (ms == NULL)
		return NULL;
	ms->base.ops = &mem_ops;
	if (max_entries == 0)
		max_entries = 100000;
	per = (max_entries + NSHARDS - 1) / NSHARDS;
	for (slots = 16; slots < per * 2; slots *= 2)
		;
	for (i = 0; i < NSHARDS; i++) {
		pthread_mutex_init(&ms->shard[i].lock, NULL);
		ms->shard[i].nslots = slots;
		ms->shard[i].max = per;
		ms->shard[i].slots = calloc(slots, sizeof(struct entry));
		ms->shard[i].exp = calloc(slots, sizeof(long));
		if (ms->shard[i].slots == NULL || ms->shard[i].exp == NULL) {
			ms->shard[i].nslots = 0;
			mem_destroy(&ms->base);
			return NULL;
		}
	}
	return &ms->base;
}
