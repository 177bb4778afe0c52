/*
 * store.h - the counter store: rate counters, gauges and notes shared by
 * the loop detector and the flood limits, in process memory or in Redis
 * so that several MX hosts share one view.
 *
 * Rates use the generic cell rate algorithm (GCRA, a token bucket kept as
 * one timestamp per key): LIMIT events per WINDOW are allowed, spread or in
 * one burst, and the window slides with time.  Unlike fixed buckets there
 * is no boundary where twice the limit gets through.  A key's state is its
 * "theoretical arrival time" (TAT); it expires WINDOW after the last event.
 *
 * Every operation answers STORE_OK or STORE_UNAVAILABLE (a temporary
 * failure: the back end could not be reached); callers map the latter to
 * store_failure (accept or tempfail), never to a 5xx.
 *
 * Thread-safe: one store is shared by every session of the process.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <stdbool.h>
#include <stddef.h>

#define STORE_KEY_MAX 200	/* longer keys are refused (STORE_UNAVAILABLE is not used for that: false) */
#define STORE_NOTE_MAX 128	/* longer notes are cut */

enum store_res { STORE_OK = 0, STORE_UNAVAILABLE };

struct store;

/* What a rate operation saw. */
struct store_rate {
	bool allowed;		/* this event fits within the limit (and was counted) */
	unsigned long used;	/* events in the current window, this one included if allowed */
	long retry_ms;		/* when denied: ms until one more event would fit */
};

/*
 * A memory store of at most MAX_ENTRIES keys (0: a default of 100,000).
 * When full, a new key evicts, among a few sampled keys of its shard, an
 * expired one if any, else the one that expires soonest (its count is
 * lost first).  NULL when out of memory.
 */
struct store *store_memory_new(size_t max_entries);

/* The value of the store key, parsed. */
struct store_url {
	bool redis;		/* false: the memory store */
	char host[256];		/* name or address; an IPv6 address without brackets */
	int port;		/* default 6379 */
	int db;			/* default 0 */
	char user[64];		/* Redis 6 ACL user, "" for none */
	char password[256];	/* "" for none */
};

/*
 * Parse "memory" or redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (HOST may
 * be a bracketed IPv6 address).  False with a description in ERR.
 */
bool store_url_parse(const char *text, struct store_url *out, char *err, size_t errsize);

/* "host:port/db" of URL for logs (no password) into BUF. */
void store_url_format(const struct store_url *url, char *buf, size_t size);

/* Options of a Redis store. */
struct store_redis_opts {
	long timeout_ms;	/* connect and command timeout (0: 500 ms) */
	bool caller_clock;	/* rates use the caller's NOW_MS (tests); else the Redis server's clock */
};

/*
 * A Redis store at URL (built with hiredis only: otherwise NULL).  It
 * connects on first use and keeps a small pool of connections; every
 * operation is one round trip (a Lua script, loaded once per connection
 * and sent again if Redis lost it) and is bounded by the timeout, so a
 * hung or stopped Redis answers STORE_UNAVAILABLE instead of blocking.
 * After a failure the store fails fast and retries with backoff (100 ms
 * doubling to 5 s); the first failure of an outage and the recovery are
 * logged once each.  Rates use the Redis server's clock so that every
 * host sharing it agrees on time.  NULL when out of memory.
 */
struct store *store_redis_new(const struct store_url *url, const struct store_redis_opts *opts);

/* Release a store; accepts NULL. */
void store_free(struct store *st);

/*
 * Count COST events of KEY against LIMIT per WINDOW_MS at time NOW_MS
 * (monotonic milliseconds; tests pass their own clock).  If the events do
 * not fit they are not counted and OUT->allowed is false.
 */
enum store_res store_rate_hit(struct store *st, const char *key, unsigned long limit,
    long window_ms, unsigned cost, long now_ms, struct store_rate *out);

/* Like store_rate_hit without counting: would one more event fit? */
enum store_res store_rate_peek(struct store *st, const char *key, unsigned long limit,
    long window_ms, long now_ms, struct store_rate *out);

/*
 * Add DELTA to the gauge KEY (concurrent connections), which expires
 * TTL_MS after its last change (so a crashed daemon's counts fade).
 * *VALUE is the value after the change, never below 0.
 */
enum store_res store_gauge_add(struct store *st, const char *key, long delta, long ttl_ms,
    long now_ms, long *value);

/*
 * Set the note KEY to VALUE for TTL_MS unless it is already set; either
 * way copy the note now stored into OUT (SIZE bytes).  For "the first
 * message of the loop" and penalty marks.
 */
enum store_res store_note_first(struct store *st, const char *key, const char *value,
    long ttl_ms, long now_ms, char *out, size_t size);

/* Read note KEY into OUT; *FOUND false when there is none (or it expired). */
enum store_res store_note_get(struct store *st, const char *key, long now_ms, char *out,
    size_t size, bool *found);

/* Number of live keys (memory store; for tests and statistics; 0 for Redis). */
size_t store_count(struct store *st);

/* Monotonic milliseconds, the clock the daemon passes as NOW_MS. */
long store_now_ms(void);

#endif
