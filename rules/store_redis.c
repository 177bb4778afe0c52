/*
 * store_redis.c - the Redis counter store (see store.h), through hiredis,
 * so that several MX hosts count one client together.
 *
 * Every operation is one round trip: a Lua script run with EVALSHA (sent
 * again in full with EVAL when Redis has lost its script cache), or a
 * plain GET.  Redis runs a script atomically, so a rate check and its
 * increment cannot interleave with another host's.  Keys live under
 * "relayguard:" with a letter for their kind (r: rate, g: gauge, n: note),
 * so the three kinds never collide.
 *
 * Connections: a pool of POOL_SIZE hiredis contexts, each used by one
 * thread at a time; a thread that finds none free waits up to the timeout.
 * A context connects on first use with a connect timeout and keeps a
 * command timeout (SO_RCVTIMEO/SO_SNDTIMEO), so a hung Redis costs one
 * timeout per attempt, never a blocked milter callback.
 *
 * Outages: the first failure marks the store down and is logged once;
 * while down every operation fails at once (STORE_UNAVAILABLE) except one
 * probe after a backoff that doubles from 100 ms to 5 s.  The first
 * success logs the recovery once, with how many operations failed.
 *
 * Thread-safe: the pool and the outage state are under one mutex, held to
 * pick or return a connection or change state, never across network I/O.
 */
#include "autoconf.h"

#ifdef HAVE_HIREDIS

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "store_priv.h"
#include "strbuf.h"

#define POOL_SIZE 16
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define KEY_PREFIX "relayguard:"

/*
 * The rate script is store_gcra (store.c) in Lua; the two must agree
 * (test_store_redis runs the same events through both).  Times are in
 * microseconds.  ARGV: limit, window_ms, cost, now_ms (-1: the server's
 * clock), count (1) or peek (0).  Returns {allowed, used, retry_ms}.
 */
static const char rate_lua[] =
	"local limit = tonumber(ARGV[1])\n"
	"local window = tonumber(ARGV[2]) * 1000\n"
	"local cost = tonumber(ARGV[3])\n"
	"local now = tonumber(ARGV[4])\n"
	"local count = ARGV[5] == '1'\n"
	"if now < 0 then\n"
	"  local t = redis.call('TIME')\n"
	"  now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"else\n"
	"  now = now * 1000\n"
	"end\n"
	"if not count then cost = 1 end\n"
	"local interval = window\n"
	"if limit > 0 then interval = math.floor(window / limit) end\n"
	"if interval <= 0 then interval = 1 end\n"
	"local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
	"if tat < now then tat = now end\n"
	"local nxt = tat + interval * cost\n"
	"if limit == 0 or nxt - window > now then\n"
	"  local retry = ARGV[2]\n"
	"  if limit > 0 then retry = math.floor((nxt - window - now + 999) / 1000) end\n"
	"  return {0, math.floor((tat - now + interval - 1) / interval), tonumber(retry)}\n"
	"end\n"
	"local used = math.floor((nxt - now + interval - 1) / interval)\n"
	"if count then\n"
	"  local ttl = math.floor(nxt / 1000) + 1 - math.floor(now / 1000)\n"
	"  redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', ttl))\n"
	"else\n"
	"  used = used - 1\n"
	"end\n"
	"return {1, used, 0}\n";

/* ARGV: delta, ttl_ms.  The value never goes below 0 (as in store_memory.c). */
static const char gauge_lua[] =
	"local v = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
	"if v < 0 then v = 0; redis.call('SET', KEYS[1], '0') end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"return v\n";

/* ARGV: value, ttl_ms.  Returns the note now stored. */
static const char note_lua[] =
	"redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\n"
	"return redis.call('GET', KEYS[1])\n";

enum script { S_RATE = 0, S_GAUGE, S_NOTE, NSCRIPTS };
static const char *const script_src[NSCRIPTS] = {rate_lua, gauge_lua, note_lua};

struct rconn {
	redisContext *c;		/* NULL: not connected */
	char sha[NSCRIPTS][48];		/* SCRIPT LOAD answers of this connection */
	bool busy;
};

struct redisstore {
	struct store base;
	struct store_url url;
	char shown[300];		/* the URL without password, for logs */
	struct timeval tv;
	long timeout_ms;
	bool caller_clock;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct rconn pool[POOL_SIZE];
	/* the outage state */
	bool down;
	long down_since_ms, retry_at_ms, backoff_ms;
	unsigned long failed;		/* operations that failed during this outage */
};

/* ---- the pool and the outage state ---- */

static void
deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Take a connection slot: -1 when the store is down and not due for a
 * probe, or when every slot stays busy for the timeout.  A caller that
 * takes the probe pushes the next retry out, so the others keep failing
 * fast while it tries.
 */
static int
pool_get(struct redisstore *rs)
{
	struct timespec deadline;
	int i, pick = -1;

	deadline_after(&deadline, rs->timeout_ms);
	pthread_mutex_lock(&rs->lock);
	for (;;) {
		if (rs->down && store_now_ms() < rs->retry_at_ms)
			break;
		for (i = 0; i < POOL_SIZE; i++) {
			if (rs->pool[i].busy)
				continue;
			if (pick < 0 || rs->pool[i].c != NULL)
				pick = i;
			if (rs->pool[i].c != NULL)
				break;
		}
		if (pick >= 0 || pthread_cond_timedwait(&rs->freed, &rs->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (pick >= 0) {
		rs->pool[pick].busy = true;
		if (rs->down)
			rs->retry_at_ms = store_now_ms() + rs->backoff_ms;
	} else {
		rs->failed++;
	}
	pthread_mutex_unlock(&rs->lock);
	return pick;
}

static void
conn_close(struct rconn *rc)
{
	if (rc->c != NULL)
		redisFree(rc->c);
	rc->c = NULL;
}

/* Return slot I.  OK: the operation succeeded (ends an outage); else WHY failed. */
static void
pool_put(struct redisstore *rs, int i, bool ok, const char *why)
{
	long now = store_now_ms();
	int k;

	pthread_mutex_lock(&rs->lock);
	rs->pool[i].busy = false;
	if (ok && rs->down) {
		log_msg(LOG_NOTICE,
		    "counter store %s available again after %.1f s; %lu operation%s failed meanwhile",
		    rs->shown, (double)(now - rs->down_since_ms) / 1000.0, rs->failed,
		    rs->failed == 1 ? "" : "s");
		rs->down = false;
	} else if (!ok && !rs->down) {
		log_msg(LOG_WARNING,
		    "counter store %s is unavailable (%s); limits follow store_failure until it answers again",
		    rs->shown, why);
		rs->down = true;
		rs->down_since_ms = now;
		rs->backoff_ms = BACKOFF_MIN_MS;
		rs->failed = 1;
		/* idle connections are as dead as this one: reconnect them later */
		for (k = 0; k < POOL_SIZE; k++)
			if (!rs->pool[k].busy)
				conn_close(&rs->pool[k]);
	} else if (!ok) {
		rs->failed++;
		rs->backoff_ms = rs->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : rs->backoff_ms * 2;
	}
	if (!ok)
		rs->retry_at_ms = now + rs->backoff_ms;
	pthread_cond_signal(&rs->freed);
	pthread_mutex_unlock(&rs->lock);
}

/* ---- connections ---- */

/* Read one reply of a pipelined set-up command; false with ERR on failure. */
static bool
setup_reply(redisContext *c, const char *what, char *out, size_t outsize, char *err, size_t errsize)
{
	redisReply *r = NULL;
	bool ok;

	if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL) {
		snprintf(err, errsize, "%s: %s", what, c->errstr[0] ? c->errstr : "no answer");
		return false;
	}
	ok = r->type != REDIS_REPLY_ERROR;
	if (!ok)
		snprintf(err, errsize, "%s: %s", what, r->str);
	else if (out != NULL && r->type == REDIS_REPLY_STRING)
		str_copy(out, outsize, r->str);
	else if (out != NULL)
		ok = false, snprintf(err, errsize, "%s: unexpected answer", what);
	freeReplyObject(r);
	return ok;
}

/* Connect RC: AUTH, SELECT and the script loads in one pipelined round trip. */
static bool
conn_open(struct redisstore *rs, struct rconn *rc, char *err, size_t errsize)
{
	redisContext *c = redisConnectWithTimeout(rs->url.host, rs->url.port, rs->tv);
	int i;
	bool ok = true;

	if (c == NULL || c->err) {
		snprintf(err, errsize, "connect: %s", c ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return false;
	}
	redisSetTimeout(c, rs->tv);
	redisEnableKeepAlive(c);
	if (rs->url.password[0] != '\0' && rs->url.user[0] != '\0')
		redisAppendCommand(c, "AUTH %s %s", rs->url.user, rs->url.password);
	else if (rs->url.password[0] != '\0')
		redisAppendCommand(c, "AUTH %s", rs->url.password);
	if (rs->url.db != 0)
		redisAppendCommand(c, "SELECT %d", rs->url.db);
	for (i = 0; i < NSCRIPTS; i++)
		redisAppendCommand(c, "SCRIPT LOAD %s", script_src[i]);
	if (rs->url.password[0] != '\0')
		ok = setup_reply(c, "AUTH", NULL, 0, err, errsize);
	if (ok && rs->url.db != 0)
		ok = setup_reply(c, "SELECT", NULL, 0, err, errsize);
	for (i = 0; ok && i < NSCRIPTS; i++)
		ok = setup_reply(c, "SCRIPT LOAD", rc->sha[i], sizeof(rc->sha[i]), err, errsize);
	if (!ok) {
		redisFree(c);
		return false;
	}
	rc->c = c;
	return true;
}

/*
 * One command on a pooled connection: ARGV with ARGC items, where a NULL
 * ARGV[1] for EVALSHA is filled with the script's SHA.  Returns the reply
 * (the caller frees it) or NULL with ERR; a connection that failed is
 * closed.  *SLOT is the slot taken (-1: none), returned by the caller.
 */
static redisReply *
run(struct redisstore *rs, enum script sc, const char **argv, int argc, int *slot, char *err,
    size_t errsize)
{
	struct rconn *rc;
	redisReply *r;

	if ((*slot = pool_get(rs)) < 0) {
		snprintf(err, errsize, "not connected");
		return NULL;
	}
	rc = &rs->pool[*slot];
	if (rc->c == NULL && !conn_open(rs, rc, err, errsize))
		return NULL;
	if (strcmp(argv[0], "EVALSHA") == 0)
		argv[1] = rc->sha[sc];
	r = redisCommandArgv(rc->c, argc, argv, NULL);
	if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* SCRIPT FLUSH (or a failover) emptied the cache: EVAL loads it again */
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = script_src[sc];
		r = redisCommandArgv(rc->c, argc, argv, NULL);
	}
	if (r == NULL) {
		snprintf(err, errsize, "%s", rc->c->errstr[0] ? rc->c->errstr : "no answer");
		conn_close(rc);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errsize, "%s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* "relayguard:K:KEY" into BUF. */
static const char *
full_key(char *buf, size_t size, char kind, const char *key)
{
	snprintf(buf, size, KEY_PREFIX "%c:%s", kind, key);
	return buf;
}

/* Finish an operation: return the slot and map OK to the result. */
static enum store_res
done(struct redisstore *rs, int slot, redisReply *r, bool ok, const char *err)
{
	if (r != NULL)
		freeReplyObject(r);
	if (slot >= 0)
		pool_put(rs, slot, ok, err);
	return ok ? STORE_OK : STORE_UNAVAILABLE;
}

static bool
is_int(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_INTEGER;
}

/* ---- the operations ---- */

static enum store_res
redis_rate(struct store *st, const char *key, unsigned long limit, long window_ms, unsigned cost,
    long now_ms, bool count, struct store_rate *out)
{
	struct redisstore *rs = (struct redisstore *)st;
	char k[STORE_KEY_MAX + 32], a_limit[24], a_window[24], a_cost[16], a_now[24], err[256];
	const char *argv[] = {"EVALSHA", NULL, "1", full_key(k, sizeof(k), 'r', key), a_limit,
		a_window, a_cost, a_now, count ? "1" : "0"};
	redisReply *r;
	int slot;
	bool ok;

	snprintf(a_limit, sizeof(a_limit), "%lu", limit);
	snprintf(a_window, sizeof(a_window), "%ld", window_ms);
	snprintf(a_cost, sizeof(a_cost), "%u", cost);
	snprintf(a_now, sizeof(a_now), "%ld", rs->caller_clock ? now_ms : -1L);
	r = run(rs, S_RATE, argv, 9, &slot, err, sizeof(err));
	ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && is_int(r->element[0]) &&
	     is_int(r->element[1]) && is_int(r->element[2]);
	if (ok) {
		out->allowed = r->element[0]->integer != 0;
		out->used = (unsigned long)r->element[1]->integer;
		out->retry_ms = (long)r->element[2]->integer;
	} else if (r != NULL) {
		snprintf(err, sizeof(err), "unexpected answer to the rate script");
	}
	return done(rs, slot, r, ok, err);
}

static enum store_res
redis_gauge_add(struct store *st, const char *key, long delta, long ttl_ms, long now_ms, long *value)
{
	struct redisstore *rs = (struct redisstore *)st;
	char k[STORE_KEY_MAX + 32], a_delta[24], a_ttl[24], err[256];
	const char *argv[] = {"EVALSHA", NULL, "1", full_key(k, sizeof(k), 'g', key), a_delta, a_ttl};
	redisReply *r;
	int slot;
	bool ok;

	(void)now_ms;
	snprintf(a_delta, sizeof(a_delta), "%ld", delta);
	snprintf(a_ttl, sizeof(a_ttl), "%ld", ttl_ms > 0 ? ttl_ms : 1);
	r = run(rs, S_GAUGE, argv, 6, &slot, err, sizeof(err));
	ok = is_int(r);
	if (ok)
		*value = (long)r->integer;
	else if (r != NULL)
		snprintf(err, sizeof(err), "unexpected answer to the gauge script");
	return done(rs, slot, r, ok, err);
}

static enum store_res
redis_note_first(struct store *st, const char *key, const char *value, long ttl_ms, long now_ms,
    char *out, size_t size)
{
	struct redisstore *rs = (struct redisstore *)st;
	char k[STORE_KEY_MAX + 32], cut[STORE_NOTE_MAX + 1], a_ttl[24], err[256];
	const char *argv[] = {"EVALSHA", NULL, "1", full_key(k, sizeof(k), 'n', key), cut, a_ttl};
	redisReply *r;
	int slot;
	bool ok;

	(void)now_ms;
	str_copy(cut, sizeof(cut), value);
	snprintf(a_ttl, sizeof(a_ttl), "%ld", ttl_ms > 0 ? ttl_ms : 1);
	r = run(rs, S_NOTE, argv, 6, &slot, err, sizeof(err));
	ok = r != NULL && r->type == REDIS_REPLY_STRING;
	if (ok)
		str_copy(out, size, r->str);
	else if (r != NULL)
		snprintf(err, sizeof(err), "unexpected answer to the note script");
	return done(rs, slot, r, ok, err);
}

static enum store_res
redis_note_get(struct store *st, const char *key, long now_ms, char *out, size_t size, bool *found)
{
	struct redisstore *rs = (struct redisstore *)st;
	char k[STORE_KEY_MAX + 32], err[256];
	const char *argv[] = {"GET", full_key(k, sizeof(k), 'n', key)};
	redisReply *r;
	int slot;
	bool ok;

	(void)now_ms;
	r = run(rs, S_NOTE, argv, 2, &slot, err, sizeof(err));
	ok = r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL);
	if (ok && r->type == REDIS_REPLY_STRING) {
		str_copy(out, size, r->str);
		*found = true;
	} else if (!ok && r != NULL) {
		snprintf(err, sizeof(err), "unexpected answer to GET");
	}
	return done(rs, slot, r, ok, err);
}

static size_t
redis_count(struct store *st)
{
	(void)st;
	return 0;
}

static void
redis_destroy(struct store *st)
{
	struct redisstore *rs = (struct redisstore *)st;
	int i;

	for (i = 0; i < POOL_SIZE; i++)
		conn_close(&rs->pool[i]);
	pthread_cond_destroy(&rs->freed);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

static const struct store_ops redis_ops = {
	redis_rate, redis_gauge_add, redis_note_first, redis_note_get, redis_count, redis_destroy,
};

struct store *
store_redis_new(const struct store_url *url, const struct store_redis_opts *opts)
{
	struct redisstore *rs = calloc(1, sizeof(*rs));
	pthread_condattr_t ca;

	if (rs == NULL)
		return NULL;
	/* A write to a connection Redis closed must fail with EPIPE, not kill
	 * the process; relayguard never relies on SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	rs->base.ops = &redis_ops;
	rs->url = *url;
	store_url_format(url, rs->shown, sizeof(rs->shown));
	rs->timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : 500;
	rs->caller_clock = opts != NULL && opts->caller_clock;
	rs->tv.tv_sec = rs->timeout_ms / 1000;
	rs->tv.tv_usec = (rs->timeout_ms % 1000) * 1000;
	rs->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&rs->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rs->freed, &ca);
	pthread_condattr_destroy(&ca);
	return &rs->base;
}

#endif /* HAVE_HIREDIS */
