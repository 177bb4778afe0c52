/*
 * test_store.c - the memory counter store: GCRA rates (burst, sliding,
 * no double burst at a window boundary), peeks, gauges, notes, expiry,
 * the size bound and eviction, exact counts under threads, and the parser
 * of the store key.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>

#include "store.h"
#include "tap.h"

static void
test_rates(void)
{
	struct store *st = store_memory_new(0);
	struct store_rate r;
	long t = 1000000;
	int i, allowed;

	for (i = 0; i < 3; i++) {
		store_rate_hit(st, "c:1", 3, 60000, 1, t, &r);
		tap_ok(r.allowed && r.used == (unsigned long)i + 1, "burst event %d of 3 allowed (used %lu)",
		    i + 1, r.used);
	}
	store_rate_hit(st, "c:1", 3, 60000, 1, t, &r);
	tap_ok(!r.allowed && r.used == 3 && r.retry_ms == 20000, "4th event denied, retry in 20 s (%ld)",
	    r.retry_ms);
	store_rate_hit(st, "c:1", 3, 60000, 1, t + 19999, &r);
	tap_ok(!r.allowed, "still denied just before 20 s");
	store_rate_hit(st, "c:1", 3, 60000, 1, t + 20000, &r);
	tap_ok(r.allowed, "one more fits after 1/3 of the window slid by");
	store_rate_hit(st, "c:1", 3, 60000, 1, t + 20000, &r);
	tap_ok(!r.allowed, "but only one");

	/* A fixed 60 s bucket would allow 3 at 59.9 s and 3 more at 60.1 s. */
	allowed = 0;
	for (i = 0; i < 3; i++) {
		store_rate_hit(st, "c:2", 3, 60000, 1, t + 59900, &r);
		allowed += r.allowed;
	}
	for (i = 0; i < 3; i++) {
		store_rate_hit(st, "c:2", 3, 60000, 1, t + 60100, &r);
		allowed += r.allowed;
	}
	tap_int(allowed, 3, "no double burst across a window boundary");

	store_rate_peek(st, "c:3", 2, 1000, t, &r);
	tap_ok(r.allowed && r.used == 0, "peek on a new key: fits, nothing used");
	store_rate_hit(st, "c:3", 2, 1000, 2, t, &r);
	tap_ok(r.allowed && r.used == 2, "cost 2 counts twice");
	store_rate_peek(st, "c:3", 2, 1000, t, &r);
	tap_ok(!r.allowed && r.used == 2, "peek when full: would not fit, 2 used");
	store_rate_peek(st, "c:3", 2, 1000, t + 1000, &r);
	tap_ok(r.allowed && r.used == 0, "after the whole window everything has drained");
	store_rate_hit(st, "c:4", 0, 1000, 1, t, &r);
	tap_ok(!r.allowed, "limit 0 allows nothing");
	store_free(st);
}

static void
test_gauges_notes(void)
{
	struct store *st = store_memory_new(0);
	char note[STORE_NOTE_MAX + 1], key[300];
	long v, t = 5000;
	bool found;

	store_gauge_add(st, "conc:a", 1, 60000, t, &v);
	store_gauge_add(st, "conc:a", 1, 60000, t, &v);
	tap_int(v, 2, "gauge counts up");
	store_gauge_add(st, "conc:a", -3, 60000, t, &v);
	tap_int(v, 0, "gauge never below zero");
	store_gauge_add(st, "conc:b", 5, 1000, t, &v);
	store_gauge_add(st, "conc:b", 1, 1000, t + 2000, &v);
	tap_int(v, 1, "an expired gauge starts again");

	store_note_first(st, "loop:x", "Q1", 60000, t, note, sizeof(note));
	tap_str(note, "Q1", "first note stored");
	store_note_first(st, "loop:x", "Q2", 60000, t + 10, note, sizeof(note));
	tap_str(note, "Q1", "the first note stays");
	store_note_get(st, "loop:x", t + 20, note, sizeof(note), &found);
	tap_ok(found && strcmp(note, "Q1") == 0, "note read back");
	store_note_get(st, "loop:x", t + 60001, note, sizeof(note), &found);
	tap_ok(!found, "note expired");
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	tap_int(store_gauge_add(st, key, 1, 1000, t, &v), STORE_UNAVAILABLE, "over-long key refused");
	store_free(st);
}

static void
test_bound(void)
{
	struct store *st = store_memory_new(640);
	struct store_rate r;
	char key[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k:%d", i);
		store_rate_hit(st, key, 10, 60000 + i, 1, 1000, &r);
	}
	tap_ok(store_count(st) <= 640, "5000 keys into a 640-key store: %zu kept", store_count(st));
	tap_ok(store_count(st) >= 600, "the store stays nearly full: %zu", store_count(st));
	store_rate_hit(st, "k:4999", 10, 64999, 1, 1000, &r);
	tap_ok(r.allowed && r.used == 2, "the newest key survived eviction");
	store_free(st);
}

/* Expired keys are freed as new keys arrive, long before the store is full. */
static void
test_sweep(void)
{
	struct store *st = store_memory_new(100000);
	struct store_rate r;
	char key[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "old:%d", i);
		store_rate_hit(st, key, 10, 1000, 1, 1000, &r);
	}
	tap_int((long)store_count(st), 5000, "5000 keys with a 1 s window");
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "new:%d", i);
		store_rate_hit(st, key, 10, 1000, 1, 60000, &r);
	}
	tap_ok(store_count(st) < 7000, "a minute later, 5000 new keys swept the old ones: %zu live",
	    store_count(st));
	store_free(st);
}

struct hammer {
	struct store *st;
	int allowed;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;
	struct store_rate r;
	int i;

	for (i = 0; i < 20000; i++) {
		store_rate_hit(h->st, "shared", 50000, 3600000, 1, 42, &r);
		h->allowed += r.allowed;
	}
	return NULL;
}

static void
test_threads(void)
{
	struct hammer h[4];
	pthread_t tid[4];
	struct store *st = store_memory_new(0);
	int i, total = 0;

	for (i = 0; i < 4; i++) {
		h[i].st = st;
		h[i].allowed = 0;
		pthread_create(&tid[i], NULL, hammer, &h[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		total += h[i].allowed;
	}
	tap_int(total, 50000, "4 threads x 20000 events, limit 50000: exactly 50000 allowed");
	store_free(st);
	store_free(NULL);
}

static void
test_urls(void)
{
	static const struct {
		const char *text;
		bool ok, redis;
		const char *host;
		int port, db;
		const char *user, *password, *shown_or_err;
	} cases[] = {
		{"memory", true, false, "", 6379, 0, "", "", "memory"},
		{"redis://127.0.0.1", true, true, "127.0.0.1", 6379, 0, "", "", "redis://127.0.0.1:6379/0"},
		{"redis://127.0.0.1:6380/2", true, true, "127.0.0.1", 6380, 2, "", "", "redis://127.0.0.1:6380/2"},
		{"REDIS://redis.example:7000/", true, true, "redis.example", 7000, 0, "", "", "redis://redis.example:7000/0"},
		{"redis://[::1]:6379/1", true, true, "::1", 6379, 1, "", "", "redis://[::1]:6379/1"},
		{"redis://:s3cret@10.0.0.5/4", true, true, "10.0.0.5", 6379, 4, "", "s3cret", "redis://10.0.0.5:6379/4"},
		{"redis://rg:pw@h:1/0", true, true, "h", 1, 0, "rg", "pw", "redis://h:1/0"},
		{"redis://", false, false, NULL, 0, 0, NULL, NULL, "missing or over-long host"},
		{"redis://h:0", false, false, NULL, 0, 0, NULL, NULL, "bad port (1-65535)"},
		{"redis://h:65536", false, false, NULL, 0, 0, NULL, NULL, "bad port (1-65535)"},
		{"redis://h/x", false, false, NULL, 0, 0, NULL, NULL, "bad database number"},
		{"redis://h:6379/0?x", false, false, NULL, 0, 0, NULL, NULL, "unexpected \"?x\" after the address"},
		{"redis://pw@h", false, false, NULL, 0, 0, NULL, NULL, "expected [USER]:PASSWORD@ before the host"},
		{"redis://[::1", false, false, NULL, 0, 0, NULL, NULL, "missing ] after an IPv6 address"},
		{"redis://h h", false, false, NULL, 0, 0, NULL, NULL, "unexpected \" h\" after the address"},
		{"memcached://h", false, false, NULL, 0, 0, NULL, NULL, "expected memory or redis://HOST[:PORT][/DB]"},
		{"Memory", false, false, NULL, 0, 0, NULL, NULL, "expected memory or redis://HOST[:PORT][/DB]"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct store_url u;
		char err[160] = "", shown[300];
		bool ok = store_url_parse(cases[i].text, &u, err, sizeof(err));

		if (!cases[i].ok) {
			tap_ok(!ok, "store = %s is refused", cases[i].text);
			tap_str(err, cases[i].shown_or_err, "  with the reason");
			continue;
		}
		store_url_format(&u, shown, sizeof(shown));
		tap_ok(ok && u.redis == cases[i].redis && strcmp(u.host, cases[i].host) == 0 &&
			   u.port == cases[i].port && u.db == cases[i].db && strcmp(u.user, cases[i].user) == 0 &&
			   strcmp(u.password, cases[i].password) == 0,
		    "store = %s: host \"%s\" port %d db %d user \"%s\" password \"%s\" (%s)", cases[i].text,
		    u.host, u.port, u.db, u.user, u.password, err);
		tap_str(shown, cases[i].shown_or_err, "  shown in logs without the password");
	}
}

int
main(void)
{
	test_urls();
	test_rates();
	test_gauges_notes();
	test_bound();
	test_sweep();
	test_threads();
	return tap_done();
}
