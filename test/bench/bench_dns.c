/*
 * bench_dns.c - latency of a reverse-DNS check (PTR + forward
 * confirmation, iprev.h) and of an SPF check (spf.h) with a cold cache (a
 * fresh libunbound context: every query goes to the forwarder) and a warm
 * one (the same context again: answers from its cache).  The context's
 * background thread is started before the clock runs.  A benchmark, not
 * a test: run it through test/bench/dns-latency.sh, which starts the test
 * DNS server.
 *
 *   bench_dns CONFIG ROUNDS CLIENT SENDER
 *
 * Prints min, median, 90th percentile and max in microseconds.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "iprev.h"
#include "services.h"
#include "snapshot.h"
#include "spf.h"

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-24s n=%-4d min %8.0f  median %8.0f  p90 %8.0f  max %8.0f us\n", what, n, v[0],
	    v[n / 2], v[(n * 9) / 10], v[n - 1]);
}

/* A query for a name no check asks for, so the context's thread is running. */
static void
warm_up(struct services *svc, long timeout)
{
	struct timespec deadline;
	struct dns_answer a;

	dns_deadline_in(timeout, &deadline);
	dns_lookup(svc->dns, "warm-up.nonexistent.test", DNS_T_A, &deadline, &a);
	dns_answer_clear(&a);
}

/* One reverse-DNS check; returns its class. */
static enum iprev_class
rdns_once(struct services *svc, const struct ipaddr *ip, long timeout)
{
	struct timespec deadline;
	struct iprev_result r;
	struct iprev *p = iprev_start(svc->dns, ip);

	dns_deadline_in(timeout, &deadline);
	iprev_wait(p, &deadline, &r);
	iprev_free(p);
	return r.klass;
}

static enum spf_result
spf_once(struct services *svc, const struct ipaddr *ip, const char *sender, long timeout)
{
	struct timespec deadline;
	struct spf_outcome o;

	dns_deadline_in(timeout, &deadline);
	spf_evaluate(svc->spf, ip, "mail.spf-pass.test", sender, &deadline, &o);
	return o.result;
}

int
main(int argc, char **argv)
{
	struct snapshot *snap;
	struct ipaddr ip;
	struct diag d;
	double *rc, *rw, *sc, *sw, t;
	int i, n;

	if (argc != 5 || (n = atoi(argv[2])) <= 0 || !ipaddr_parse(argv[3], &ip)) {
		fprintf(stderr, "usage: bench_dns CONFIG ROUNDS CLIENT SENDER\n");
		return 64;
	}
	diag_init(&d);
	if ((snap = snapshot_load(argv[1], &d)) == NULL) {
		diag_print(&d, stderr);
		return 78;
	}
	rc = calloc((size_t)n, sizeof(double));
	rw = calloc((size_t)n, sizeof(double));
	sc = calloc((size_t)n, sizeof(double));
	sw = calloc((size_t)n, sizeof(double));
	for (i = 0; i < n; i++) {
		struct services svc;
		long to = snap->cfg->dns_timeout;

		/* A fresh context has an empty cache: the first lookups are cold. */
		if (!services_init(&svc, snap->cfg, &d)) {
			diag_print(&d, stderr);
			return 78;
		}
		/* libunbound starts its thread at the first query: not part of a check. */
		warm_up(&svc, to);
		t = now_us();
		if (rdns_once(&svc, &ip, to) != IPREV_PASS)
			fprintf(stderr, "warning: reverse DNS of %s did not pass\n", argv[3]);
		rc[i] = now_us() - t;
		t = now_us();
		rdns_once(&svc, &ip, to);
		rw[i] = now_us() - t;
		t = now_us();
		if (spf_once(&svc, &ip, argv[4], to) != SPF_R_PASS)
			fprintf(stderr, "warning: SPF of %s for %s did not pass\n", argv[4], argv[3]);
		sc[i] = now_us() - t;
		t = now_us();
		spf_once(&svc, &ip, argv[4], to);
		sw[i] = now_us() - t;
		services_free(&svc);
	}
	report("rdns check, cold cache", rc, n);
	report("rdns check, warm cache", rw, n);
	report("SPF check, cold cache", sc, n);
	report("SPF check, warm cache", sw, n);
	free(rc);
	free(rw);
	free(sc);
	free(sw);
	snapshot_unref(snap);
	diag_free(&d);
	return 0;
}
