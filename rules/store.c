/*
 * store.c - the counter-store front end (see store.h): argument checks,
 * latency statistics, and the GCRA arithmetic every back end shares.
 */
#include "autoconf.h"

#include <string.h>
#include <time.h>

#include "stats.h"
#include "store_priv.h"

long
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long
store_gcra(long tat_us, unsigned long limit, long window_ms, unsigned cost, long now_ms,
    struct store_rate *out)
{
	long now = now_ms * 1000, window = window_ms * 1000;
	long interval = limit ? window / (long)limit : window; /* time one event "costs" */
	long tat = tat_us > now ? tat_us : now, next;

	if (interval <= 0)
		interval = 1;
	next = tat + interval * (long)cost;
	memset(out, 0, sizeof(*out));
	if (limit == 0 || next - window > now) {
		out->allowed = false;
		out->used = (unsigned long)((tat - now + interval - 1) / interval);
		out->retry_ms = limit == 0 ? window_ms : (next - window - now + 999) / 1000;
		return tat_us;
	}
	out->allowed = true;
	out->used = (unsigned long)((next - now + interval - 1) / interval);
	return next;
}

static bool
key_ok(const char *key)
{
	return key != NULL && *key != '\0' && strlen(key) <= STORE_KEY_MAX;
}

/* Time one back-end call for the statistics. */
#define TIMED(call)                                                                      \
	do {                                                                             \
		struct timespec t0, t1;                                                  \
		clock_gettime(CLOCK_MONOTONIC, &t0);                                     \
		res = (call);                                                            \
		clock_gettime(CLOCK_MONOTONIC, &t1);                                     \
		stats_latency(LAT_STORE, (double)(t1.tv_sec - t0.tv_sec) +               \
					     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);   \
	} while (0)

enum store_res
store_rate_hit(struct store *st, const char *key, unsigned long limit, long window_ms,
    unsigned cost, long now_ms, struct store_rate *out)
{
	enum store_res res;

	memset(out, 0, sizeof(*out));
	if (!key_ok(key) || window_ms <= 0)
		return STORE_UNAVAILABLE;
	TIMED(st->ops->rate(st, key, limit, window_ms, cost, now_ms, true, out));
	return res;
}

enum store_res
store_rate_peek(struct store *st, const char *key, unsigned long limit, long window_ms,
    long now_ms, struct store_rate *out)
{
	enum store_res res;

	memset(out, 0, sizeof(*out));
	if (!key_ok(key) || window_ms <= 0)
		return STORE_UNAVAILABLE;
	TIMED(st->ops->rate(st, key, limit, window_ms, 1, now_ms, false, out));
	return res;
}

enum store_res
store_gauge_add(struct store *st, const char *key, long delta, long ttl_ms, long now_ms,
    long *value)
{
	enum store_res res;

	*value = 0;
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->gauge_add(st, key, delta, ttl_ms, now_ms, value));
	return res;
}

enum store_res
store_note_first(struct store *st, const char *key, const char *value, long ttl_ms, long now_ms,
    char *out, size_t size)
{
	enum store_res res;

	if (size > 0)
		out[0] = '\0';
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->note_first(st, key, value, ttl_ms, now_ms, out, size));
	return res;
}

enum store_res
store_note_get(struct store *st, const char *key, long now_ms, char *out, size_t size, bool *found)
{
	enum store_res res;

	*found = false;
	if (size > 0)
		out[0] = '\0';
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->note_get(st, key, now_ms, out, size, found));
	return res;
}

size_t
store_count(struct store *st)
{
	return st ? st->ops->count(st) : 0;
}

void
store_free(struct store *st)
{
	if (st != NULL)
		st->ops->destroy(st);
}
