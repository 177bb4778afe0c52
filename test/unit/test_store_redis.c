/*
 * test_store_redis.c - the Redis counter store against a real
 * redis-server this test starts on a loopback port chosen at run time:
 * the Lua GCRA agrees with the memory store event for event; the server
 * clock; gauges, notes, databases, passwords; a lost script cache; exact
 * counts from threads and from two stores (two hosts) at once; and
 * outages (server stopped, server hung) that fail fast, are logged once,
 * and end when the server answers again.  Skips when redis-server or
 * hiredis is missing.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis_server.h"
#include "store.h"
#include "tap.h"

#ifdef HAVE_HIREDIS
#include <hiredis/hiredis.h>

static struct redis_server srv;

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct store *
open_store(int port, int db, const char *password, long timeout_ms, bool caller_clock)
{
	struct store_url url;
	struct store_redis_opts o = {timeout_ms, caller_clock};
	char text[200], err[160];

	snprintf(text, sizeof(text), "redis://%s%s%s127.0.0.1:%d/%d", password ? ":" : "",
	    password ? password : "", password ? "@" : "", port, db);
	if (!store_url_parse(text, &url, err, sizeof(err))) {
		tap_ok(false, "parse %s: %s", text, err);
		return NULL;
	}
	return store_redis_new(&url, &o);
}

/* A raw command on a fresh connection (test-side inspection). */
static long long
raw_int(const char *cmd1, const char *cmd2)
{
	redisContext *c = redisConnect("127.0.0.1", srv.port);
	redisReply *r;
	long long v = -1;

	if (c == NULL || c->err)
		return -2;
	if (cmd2 != NULL)
		freeReplyObject(redisCommand(c, cmd1));
	r = redisCommand(c, cmd2 != NULL ? cmd2 : cmd1);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r != NULL && r->type == REDIS_REPLY_STATUS)
		v = 0;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return v;
}

struct event {
	const char *key;
	unsigned long limit;
	long window_ms;
	unsigned cost;
	long dt_ms;	/* advance the clock first */
	bool peek;
};

/* Run EV through both stores at the same (caller's) time; count disagreements. */
static int
compare(struct store *mem, struct store *red, const struct event *ev, long *t, char *why, size_t size)
{
	struct store_rate a, b;
	enum store_res ra, rb;

	*t += ev->dt_ms;
	if (ev->peek) {
		ra = store_rate_peek(mem, ev->key, ev->limit, ev->window_ms, *t, &a);
		rb = store_rate_peek(red, ev->key, ev->limit, ev->window_ms, *t, &b);
	} else {
		ra = store_rate_hit(mem, ev->key, ev->limit, ev->window_ms, ev->cost, *t, &a);
		rb = store_rate_hit(red, ev->key, ev->limit, ev->window_ms, ev->cost, *t, &b);
	}
	if (ra == rb && a.allowed == b.allowed && a.used == b.used && a.retry_ms == b.retry_ms)
		return 0;
	snprintf(why, size, "%s %s limit %lu/%ld cost %u at +%ld: memory %d/%lu/%ld redis %d/%lu/%ld (res %d %d)",
	    ev->peek ? "peek" : "hit", ev->key, ev->limit, ev->window_ms, ev->cost, ev->dt_ms,
	    a.allowed, a.used, a.retry_ms, b.allowed, b.used, b.retry_ms, ra, rb);
	return 1;
}

static void
test_agreement(void)
{
	static const struct event fixed[] = {
		{"a", 3, 60000, 1, 0, false}, {"a", 3, 60000, 1, 0, false}, {"a", 3, 60000, 1, 0, false},
		{"a", 3, 60000, 1, 0, false}, {"a", 3, 60000, 1, 0, true}, {"a", 3, 60000, 1, 19999, false},
		{"a", 3, 60000, 1, 1, false}, {"a", 3, 60000, 1, 0, false}, {"b", 3, 60000, 1, 59900, false},
		{"b", 3, 60000, 1, 0, false}, {"b", 3, 60000, 1, 0, false}, {"b", 3, 60000, 1, 200, false},
		{"c", 2, 2000, 2, 0, false}, {"c", 2, 2000, 1, 0, true}, {"c", 2, 2000, 1, 2000, true},
		{"d", 0, 1000, 1, 0, false}, {"e", 5, 3600000, 7, 0, false}, {"e", 5, 3600000, 5, 0, false},
	};
	static const unsigned long limits[] = {1, 2, 3, 5, 10, 50};
	static const long windows[] = {60000, 3600000, 86400000};
	static const unsigned costs[] = {1, 1, 1, 2, 5};
	static const long steps[] = {0, 1, 7, 333, 1000, 20000, 60000, 700000};
	static const char *const keys[] = {"k1", "k2", "k3"};
	struct store *mem = store_memory_new(0), *red = open_store(srv.port, 0, NULL, 2000, true);
	char why[300] = "";
	unsigned long seed = 12345;
	long t = 1000000;
	int bad = 0, i;

	for (i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
		bad += compare(mem, red, &fixed[i], &t, why, sizeof(why));
	tap_ok(bad == 0, "the Lua GCRA agrees with store_gcra on %zu chosen events %s",
	    sizeof(fixed) / sizeof(fixed[0]), why);
	bad = 0;
	for (i = 0; i < 600; i++) {
		struct event ev;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ev.key = keys[(seed >> 33) % 3];
		ev.limit = limits[(seed >> 36) % 6];
		ev.window_ms = windows[(seed >> 40) % 3];
		ev.cost = costs[(seed >> 44) % 5];
		ev.dt_ms = steps[(seed >> 48) % 8];
		ev.peek = (seed >> 52) % 5 == 0;
		/* one key keeps one limit, as the limits do */
		ev.limit = limits[(ev.key[1] - '1' + 2) % 6];
		ev.window_ms = windows[(ev.key[1] - '1') % 3];
		bad += compare(mem, red, &ev, &t, why, sizeof(why));
	}
	tap_ok(bad == 0, "and on 600 random events (%d differ) %s", bad, why);
	store_free(mem);
	store_free(red);
}

static void
test_server_clock(void)
{
	struct store *st = open_store(srv.port, 0, NULL, 2000, false);
	struct store_rate r;
	int i, allowed = 0;

	for (i = 0; i < 4; i++) {
		tap_int(store_rate_hit(st, "srvclock", 3, 60000, 1, 0, &r), STORE_OK, "server-clock hit answers");
		allowed += r.allowed;
	}
	tap_int(allowed, 3, "3 of 4 events fit 3 per minute on the server's clock");
	tap_ok(r.retry_ms > 19000 && r.retry_ms <= 20000, "the 4th may retry in about 20 s (%ld ms)", r.retry_ms);
	store_rate_peek(st, "srvclock", 3, 60000, 0, &r);
	tap_ok(!r.allowed && r.used == 3, "a peek sees the 3 counted events (%lu)", r.used);
	store_free(st);
}

static void
test_gauges_notes(void)
{
	struct store *st = open_store(srv.port, 0, NULL, 2000, false);
	char note[STORE_NOTE_MAX + 1], longv[400];
	bool found;
	long v;

	store_gauge_add(st, "conc", 1, 60000, 0, &v);
	store_gauge_add(st, "conc", 1, 60000, 0, &v);
	tap_int(v, 2, "gauge counts up");
	store_gauge_add(st, "conc", -3, 60000, 0, &v);
	tap_int(v, 0, "gauge never below zero");
	store_gauge_add(st, "conc", 1, 60000, 0, &v);
	tap_int(v, 1, "and counts on from zero");
	store_gauge_add(st, "brief", 5, 150, 0, &v);
	sleep_ms(400);
	store_gauge_add(st, "brief", 1, 150, 0, &v);
	tap_int(v, 1, "an expired gauge starts again");

	store_note_first(st, "loop", "Q1", 60000, 0, note, sizeof(note));
	tap_str(note, "Q1", "first note stored");
	store_note_first(st, "loop", "Q2", 60000, 0, note, sizeof(note));
	tap_str(note, "Q1", "the first note stays");
	tap_int(store_note_get(st, "loop", 0, note, sizeof(note), &found), STORE_OK, "note read answers");
	tap_ok(found && strcmp(note, "Q1") == 0, "note read back");
	store_note_get(st, "nonesuch", 0, note, sizeof(note), &found);
	tap_ok(!found && note[0] == '\0', "absent note: not found");
	store_note_first(st, "short", "x", 150, 0, note, sizeof(note));
	sleep_ms(400);
	store_note_get(st, "short", 0, note, sizeof(note), &found);
	tap_ok(!found, "note expired");
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	store_note_first(st, "long", longv, 60000, 0, note, sizeof(note));
	tap_int((long)strlen(note), STORE_NOTE_MAX, "notes are cut at STORE_NOTE_MAX, as in memory");
	tap_int(store_rate_hit(st, "key with spaces\r\n", 5, 1000, 1, 0, &(struct store_rate){0}), STORE_OK,
	    "keys are binary-safe arguments");
	tap_int((long)store_count(st), 0, "store_count is 0 for Redis");
	store_free(st);
}

static void
test_db_and_scripts(void)
{
	struct store *st = open_store(srv.port, 3, NULL, 2000, false);
	struct store_rate r;

	store_rate_hit(st, "dbkey", 5, 60000, 1, 0, &r);
	tap_int((long)raw_int("SELECT 3", "EXISTS relayguard:r:dbkey"), 1, "/3 selects database 3");
	tap_int((long)raw_int("SELECT 0", "EXISTS relayguard:r:dbkey"), 0, "and not database 0");
	tap_int((long)raw_int("SCRIPT FLUSH", NULL), 0, "script cache flushed");
	tap_int(store_rate_hit(st, "dbkey", 5, 60000, 1, 0, &r), STORE_OK,
	    "after SCRIPT FLUSH the script is sent again (EVAL)");
	tap_ok(r.allowed && r.used == 2, "and the count went on (%lu)", r.used);
	store_free(st);
}

struct hammer {
	struct store *st;
	int allowed, failed;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;
	struct store_rate r;
	int i;

	for (i = 0; i < 1500; i++) {
		if (store_rate_hit(h->st, "shared", 4000, 3600000, 1, 0, &r) != STORE_OK)
			h->failed++;
		h->allowed += r.allowed;
	}
	return NULL;
}

static void
test_concurrency(void)
{
	struct store *a = open_store(srv.port, 0, NULL, 5000, false);
	struct store *b = open_store(srv.port, 0, NULL, 5000, false);
	struct hammer h[4];
	pthread_t tid[4];
	int i, total = 0, failed = 0;

	/* 4 threads on 2 stores: two hosts with two threads each */
	for (i = 0; i < 4; i++) {
		h[i].st = i % 2 ? a : b;
		h[i].allowed = h[i].failed = 0;
		pthread_create(&tid[i], NULL, hammer, &h[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		total += h[i].allowed;
		failed += h[i].failed;
	}
	tap_int(failed, 0, "no operation failed under 4 threads");
	tap_int(total, 4000, "6000 events from two stores and 4 threads, limit 4000: exactly 4000 allowed");
	store_free(a);
	store_free(b);
}

/* Redirect stderr (the log) to a file, or back; return the file's text when restoring. */
static const char *
capture(bool start)
{
	static int saved = -1;
	static char path[80], text[8192];
	int fd;
	ssize_t n;

	if (start) {
		snprintf(path, sizeof(path), "%s/log", srv.dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		saved = dup(2);
		dup2(fd, 2);
		close(fd);
		return NULL;
	}
	dup2(saved, 2);
	close(saved);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : 0;
	text[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	unlink(path);
	return text;
}

static int
count_of(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)) != NULL; text++)
		n++;
	return n;
}

/* The captured log as TAP comments. */
static void
show_log(const char *text)
{
	const char *nl;

	for (; *text != '\0'; text = nl + 1) {
		if ((nl = strchr(text, '\n')) == NULL)
			nl = text + strlen(text);
		printf("# %.*s\n", (int)(nl - text), text);
		if (*nl == '\0')
			break;
	}
}

/* Poll until an operation succeeds again; the ms it took, or -1 after 15 s. */
static long
until_back(struct store *st, const struct timespec *t0)
{
	struct store_rate r;

	while (elapsed_ms(t0) < 15000) {
		if (store_rate_hit(st, "probe", 1000000, 60000, 1, 0, &r) == STORE_OK)
			return elapsed_ms(t0);
		sleep_ms(50);
	}
	return -1;
}

static void
test_stopped(void)
{
	struct store *st = open_store(srv.port, 0, NULL, 300, false);
	struct store_rate r;
	struct timespec t0;
	const char *log;
	char why[200];
	int i, fails = 0;
	long back;

	tap_int(store_rate_hit(st, "up", 10, 60000, 1, 0, &r), STORE_OK, "store answers before the outage");
	capture(true);
	redis_server_stop(&srv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fails += store_rate_hit(st, "up", 10, 60000, 1, 0, &r) == STORE_UNAVAILABLE;
	tap_ok(elapsed_ms(&t0) < 1000, "a stopped server is noticed at once (%ld ms)", elapsed_ms(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++)
		fails += store_rate_hit(st, "up", 10, 60000, 1, 0, &r) == STORE_UNAVAILABLE;
	tap_ok(elapsed_ms(&t0) < 200, "200 operations during the outage fail fast (%ld ms)", elapsed_ms(&t0));
	sleep_ms(600); /* a few backoff probes */
	tap_ok(redis_server_restart(&srv, why, sizeof(why)), "server restarted on port %d %s", srv.port, why);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	back = until_back(st, &t0);
	log = capture(false);
	tap_int(fails, 201, "every operation during the outage answered STORE_UNAVAILABLE");
	tap_ok(back >= 0 && back < 6000, "the store answers again within the 5 s backoff (%ld ms)", back);
	tap_int(count_of(log, "is unavailable"), 1, "the outage is logged once");
	tap_int(count_of(log, "available again"), 1, "the recovery is logged once");
	show_log(log);
	store_free(st);
}

static void
test_hung(void)
{
	struct store *st = open_store(srv.port, 0, NULL, 200, false);
	struct store_rate r;
	struct timespec t0;
	const char *log;
	long back;
	int i;

	tap_int(store_rate_hit(st, "hung", 10, 60000, 1, 0, &r), STORE_OK, "store answers before the hang");
	capture(true);
	redis_server_pause(&srv, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tap_int(store_rate_hit(st, "hung", 10, 60000, 1, 0, &r), STORE_UNAVAILABLE, "a hung server: unavailable");
	tap_ok(elapsed_ms(&t0) < 1500, "after the command timeout, not longer (%ld ms, timeout 200)",
	    elapsed_ms(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100; i++)
		store_rate_hit(st, "hung", 10, 60000, 1, 0, &r);
	tap_ok(elapsed_ms(&t0) < 1500, "100 more operations while hung take little time (%ld ms)",
	    elapsed_ms(&t0));
	redis_server_pause(&srv, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	back = until_back(st, &t0);
	log = capture(false);
	tap_ok(back >= 0, "the store answers again when the server does (%ld ms)", back);
	tap_int(count_of(log, "is unavailable"), 1, "the hang is logged once");
	tap_int(count_of(log, "available again"), 1, "and its end once");
	store_free(st);
}

static void
test_password(void)
{
	struct redis_server locked;
	struct store *good, *bad;
	struct store_rate r;
	char why[200];

	if (!redis_server_start(&locked, "s3cret", why, sizeof(why))) {
		tap_ok(false, "second server with a password: %s", why);
		return;
	}
	good = open_store(locked.port, 0, "s3cret", 2000, false);
	bad = open_store(locked.port, 0, "wrong", 2000, false);
	tap_int(store_rate_hit(good, "pw", 5, 60000, 1, 0, &r), STORE_OK, "redis://:PASSWORD@ authenticates");
	capture(true);
	tap_int(store_rate_hit(bad, "pw", 5, 60000, 1, 0, &r), STORE_UNAVAILABLE, "a wrong password: unavailable");
	tap_ok(strstr(capture(false), "AUTH") != NULL, "and the log says AUTH failed");
	store_free(good);
	store_free(bad);
	redis_server_cleanup(&locked);
}

int
main(void)
{
	char why[200];

	signal(SIGPIPE, SIG_IGN);
	log_init("test_store_redis", LOG_DEST_STDERR);
	if (!redis_server_start(&srv, NULL, why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	test_agreement();
	test_server_clock();
	test_gauges_notes();
	test_db_and_scripts();
	test_concurrency();
	test_password();
	test_stopped();
	test_hung();
	redis_server_cleanup(&srv);
	return tap_done();
}

#else

int
main(void)
{
	printf("1..0 # SKIP relayguard was built without hiredis\n");
	return 0;
}

#endif
