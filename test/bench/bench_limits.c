/*
 * bench_limits.c - what one flood-limit check costs, with the memory store
 * and with Redis (a private redis-server on loopback, started here).  Not
 * a test: "make bench" runs it and prints a table.
 *
 * Measured: the store operation a limit check makes (store_rate_hit), on
 * one thread and on several; and a whole decide_mail with
 * client_message_rate on against the same without limits, whose
 * difference is what the check adds to a MAIL command.  Build without
 * --enable-sanitizers for figures worth quoting.
 */
#include "autoconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "redis_server.h"
#include "services.h"
#include "session.h"
#include "snapshot.h"
#include "store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
row(const char *store, const char *what, long ops, double secs)
{
	double per = secs / (double)ops;

	if (per < 1e-6)
		printf("%-7s %-46s %9ld %8.0f ns %10.0f/s\n", store, what, ops, per * 1e9, ops / secs);
	else
		printf("%-7s %-46s %9ld %8.1f us %10.0f/s\n", store, what, ops, per * 1e6, ops / secs);
}

struct worker {
	struct store *st;
	long ops;
	int id;
};

/* OPS rate hits on 1000 client keys, as a busy MX would see them. */
static void *
hits(void *arg)
{
	struct worker *w = arg;
	struct store_rate r;
	char key[64];
	long i;

	for (i = 0; i < w->ops; i++) {
		snprintf(key, sizeof(key), "msg:198.51.%d.%ld", w->id, i % 1000);
		store_rate_hit(w->st, key, 1000000, 3600000, 1, store_now_ms(), &r);
	}
	return NULL;
}

static void
bench_store(const char *name, struct store *st, long ops, int threads)
{
	pthread_t tid[8];
	struct worker w[8];
	char what[80];
	double t0;
	int i;

	t0 = now_s();
	for (i = 0; i < threads; i++) {
		w[i] = (struct worker){st, ops / threads, i};
		pthread_create(&tid[i], NULL, hits, &w[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	snprintf(what, sizeof(what), "store_rate_hit, %d thread%s", threads, threads == 1 ? "" : "s");
	row(name, what, ops, now_s() - t0);
}

/* A snapshot of TEXT (written to a private file). */
static struct snapshot *
snapshot_of(const char *text)
{
	char path[] = "/tmp/rgbench.XXXXXX";
	struct snapshot *snap;
	struct diag d;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	diag_init(&d);
	snap = snapshot_load(path, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	unlink(path);
	return snap;
}

/* Seconds for OPS decide_mail calls on one session under CONFIG. */
static double
mail_loop(const char *config, long ops)
{
	struct snapshot *snap = snapshot_of(config);
	struct services svc;
	struct session *s;
	struct ipaddr ip;
	struct verdict v;
	struct diag d;
	double t0, t;
	long i;

	diag_init(&d);
	if (snap == NULL || !services_init(&svc, snap->cfg, &d)) {
		diag_print(&d, stderr);
		exit(1);
	}
	diag_free(&d);
	s = session_new(snap, &svc);
	ipaddr_parse("198.51.100.7", &ip);
	decide_connect(s, &ip, "client.example.org", &v);
	t0 = now_s();
	for (i = 0; i < ops; i++)
		decide_mail(s, "<sender@stranger.example>", NULL, &v);
	t = now_s() - t0;
	if (v.action != ACT_CONTINUE)
		fprintf(stderr, "bench: unexpected refusal: %s\n", v.detail);
	decide_close(s);
	session_free(s);
	services_free(&svc);
	snapshot_unref(snap);
	return t;
}

static void
bench_decide(const char *name, const char *store, long ops)
{
	char plain[256], limited[512], what[80];
	double base, lim;

	snprintf(plain, sizeof(plain), "local_domains = example.com\nstore = %s\n", store);
	snprintf(limited, sizeof(limited), "%sclient_message_rate = 1000000000/1h\n", plain);
	base = mail_loop(plain, ops);
	lim = mail_loop(limited, ops);
	row(name, "decide_mail, no limit", ops, base);
	row(name, "decide_mail, client_message_rate", ops, lim);
	snprintf(what, sizeof(what), "  = one limit check adds");
	row(name, what, ops, lim - base > 0 ? lim - base : 0);
}

int
main(int argc, char **argv)
{
	struct redis_server srv;
	struct store_url url;
	struct store_redis_opts opts = {1000, false};
	struct store *st;
	char why[200], text[100];
	long scale = argc > 1 ? atol(argv[1]) : 1;

	signal(SIGPIPE, SIG_IGN);
	log_init("bench_limits", LOG_DEST_NONE);
#ifdef BENCH_SANITIZERS
	printf("note: built with --enable-sanitizers; these figures are inflated\n");
#endif
	printf("%-7s %-46s %9s %11s %12s\n", "store", "what", "ops", "time/op", "throughput");
	st = store_memory_new(0);
	bench_store("memory", st, 1000000 * scale, 1);
	bench_store("memory", st, 1000000 * scale, 2);
	store_free(st);
	bench_decide("memory", "memory", 200000 * scale);

	if (!redis_server_start(&srv, NULL, why, sizeof(why))) {
		printf("redis   skipped: %s\n", why);
		return 0;
	}
	snprintf(text, sizeof(text), "redis://127.0.0.1:%d/0", srv.port);
	store_url_parse(text, &url, why, sizeof(why));
	if ((st = store_redis_new(&url, &opts)) == NULL) {
		printf("redis   skipped: built without hiredis\n");
		redis_server_cleanup(&srv);
		return 0;
	}
	bench_store("redis", st, 20000 * scale, 1);
	bench_store("redis", st, 40000 * scale, 4);
	store_free(st);
	bench_decide("redis", text, 20000 * scale);
	redis_server_cleanup(&srv);
	return 0;
}
