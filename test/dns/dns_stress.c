/*
 * dns_stress.c - the DNS layer under concurrent use (test/dns/stress.sh):
 * THREADS threads look names up at once with short deadlines, some of
 * which time out (their queries are cancelled while answers may be
 * arriving), and start reverse-DNS lookups that they free at once, before
 * or while the answers come (the reference-counted cancel path).  Run
 * under AddressSanitizer this finds use-after-free and leaks in those
 * races; the classes found are checked too.  TAP.
 *
 *   dns_stress CONFIG
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "iprev.h"
#include "services.h"
#include "snapshot.h"
#include "tap.h"

#define THREADS 8
#define ROUNDS 60

static struct services svc;

struct result {
	int wrong;		/* answers of the wrong class */
	int timeouts;		/* lookups of the dropping zone that timed out */
	int iprev_pass;		/* waited reverse lookups that passed */
};

static void *
worker(void *arg)
{
	struct result *r = arg;
	struct timespec deadline;
	struct dns_answer a;
	struct ipaddr ip;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		char name[64];

		dns_deadline_in(1000, &deadline);
		dns_lookup(svc.dns, "mx.good.test", DNS_T_A, &deadline, &a);
		r->wrong += a.status != DNS_OK || a.n != 1;
		dns_answer_clear(&a);
		/* A name of the dropping zone: cancelled at a 30 ms deadline. */
		snprintf(name, sizeof(name), "x%d-%p.timeout.test", i, (void *)r);
		dns_deadline_in(30, &deadline);
		dns_lookup(svc.dns, name, DNS_T_A, &deadline, &a);
		r->timeouts += a.status == DNS_TEMP && a.why == DNS_WHY_TIMEOUT;
		dns_answer_clear(&a);
		dns_deadline_in(1000, &deadline);
		dns_lookup(svc.dns, "nonexistent.test", DNS_T_MX, &deadline, &a);
		r->wrong += a.status != DNS_NXDOMAIN;
		dns_answer_clear(&a);
		/* Reverse lookups freed at once, or after the answer. */
		ipaddr_parse(i % 2 ? "192.0.2.13" : "192.0.2.16", &ip);
		iprev_free(iprev_start(svc.dns, &ip));
		if (i % 10 == 0) {
			struct iprev_result res;
			struct iprev *p;

			ipaddr_parse("192.0.2.13", &ip);
			p = iprev_start(svc.dns, &ip);
			dns_deadline_in(2000, &deadline);
			iprev_wait(p, &deadline, &res);
			r->iprev_pass += res.klass == IPREV_PASS;
			iprev_free(p);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct snapshot *snap;
	pthread_t tid[THREADS];
	struct result res[THREADS];
	struct diag d;
	int i, wrong = 0, timeouts = 0, pass = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dns_stress CONFIG\n");
		return 64;
	}
	diag_init(&d);
	if ((snap = snapshot_load(argv[1], &d)) == NULL || !services_init(&svc, snap->cfg, &d)) {
		diag_print(&d, stderr);
		return 78;
	}
	memset(res, 0, sizeof(res));
	for (i = 0; i < THREADS; i++)
		pthread_create(&tid[i], NULL, worker, &res[i]);
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		wrong += res[i].wrong;
		timeouts += res[i].timeouts;
		pass += res[i].iprev_pass;
	}
	tap_int(wrong, 0, "every answer from the server has its class (found, NXDOMAIN)");
	tap_int(timeouts, THREADS * ROUNDS, "every lookup of the dropping zone ended at its deadline");
	/* 192.0.2.13 passes: one of its three PTR names confirms. */
	tap_int(pass, THREADS * (ROUNDS / 10), "waited reverse lookups of 192.0.2.13 passed");
	services_free(&svc);
	snapshot_unref(snap);
	diag_free(&d);
	return tap_done();
}
