/*
 * test_dnscache.c - the answer cache in front of libunbound (dnscache.h):
 * what is kept, for how long, under which key, and that a copy handed out
 * survives the slot being replaced.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnscache.h"
#include "tap.h"

/* An answer of TYPE with N records ("name0", "name1", ...) or the A address 192.0.2.N. */
static struct dns_answer
answer(enum dns_status st, int type, unsigned ttl, size_t n)
{
	struct dns_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = st;
	a.type = type;
	a.ttl = ttl;
	if (n == 0)
		return a;
	a.rr = calloc(n, sizeof(*a.rr));
	for (i = 0; i < n; i++, a.n++) {
		char text[32];

		if (type == DNS_T_A) {
			a.rr[i].ip.family = AF_INET;
			a.rr[i].ip.a[0] = 192, a.rr[i].ip.a[2] = 2, a.rr[i].ip.a[3] = (unsigned char)i;
			continue;
		}
		snprintf(text, sizeof(text), "name%zu", i);
		a.rr[i].text = strdup(text);
		a.rr[i].len = strlen(text);
	}
	return a;
}

int
main(void)
{
	struct dnscache *c = dnscache_new(64);
	struct dns_answer a, got;
	char big[3000];

	tap_ok(c != NULL, "a cache of 64 slots");
	tap_ok(!dnscache_get(c, "mx.example.test", DNS_T_A, &got), "empty: a miss");

	/* Kept, and found again whatever the case of the name. */
	a = answer(DNS_OK, DNS_T_PTR, 300, 2);
	dnscache_put(c, "10.2.0.192.in-addr.arpa", DNS_T_PTR, &a);
	dns_answer_clear(&a);
	tap_ok(dnscache_get(c, "10.2.0.192.IN-ADDR.arpa", DNS_T_PTR, &got), "a PTR answer is kept");
	tap_int((long)got.n, 2, "with its two records");
	tap_str(got.n == 2 ? got.rr[1].text : NULL, "name1", "the second record's name");
	tap_ok(got.ttl > 0 && got.ttl <= 300, "its TTL counts down from 300 (%u)", got.ttl);
	tap_ok(!dnscache_get(c, "10.2.0.192.in-addr.arpa", DNS_T_A, &a), "another type is another key");

	/* The copy handed out is the caller's: replacing the slot leaves it alone. */
	a = answer(DNS_OK, DNS_T_PTR, 300, 1);
	dnscache_put(c, "10.2.0.192.in-addr.arpa", DNS_T_PTR, &a);
	dns_answer_clear(&a);
	tap_str(got.rr[0].text, "name0", "a copy outlives the entry it came from");
	dns_answer_clear(&got);
	tap_ok(dnscache_get(c, "10.2.0.192.in-addr.arpa", DNS_T_PTR, &got) && got.n == 1,
	    "a new answer replaces the old one");
	dns_answer_clear(&got);

	/* Negative answers with a TTL are kept; temporary failures never. */
	a = answer(DNS_NXDOMAIN, DNS_T_A, 60, 0);
	dnscache_put(c, "nx.example.test", DNS_T_A, &a);
	tap_ok(dnscache_get(c, "nx.example.test", DNS_T_A, &got) && got.status == DNS_NXDOMAIN,
	    "NXDOMAIN with a TTL is kept");
	dns_answer_clear(&got);
	a = answer(DNS_TEMP, DNS_T_A, 60, 0);
	a.why = DNS_WHY_SERVFAIL;
	dnscache_put(c, "sf.example.test", DNS_T_A, &a);
	tap_ok(!dnscache_get(c, "sf.example.test", DNS_T_A, &got), "SERVFAIL is never kept");
	a = answer(DNS_OK, DNS_T_A, 0, 1);
	dnscache_put(c, "ttl0.example.test", DNS_T_A, &a);
	dns_answer_clear(&a);
	tap_ok(!dnscache_get(c, "ttl0.example.test", DNS_T_A, &got), "a TTL of 0 is not kept");

	/* Too big to keep: a TXT answer over DNSCACHE_MAX_BYTES. */
	a = answer(DNS_OK, DNS_T_TXT, 300, 1);
	free(a.rr[0].text);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a.rr[0].text = strdup(big);
	a.rr[0].len = strlen(big);
	dnscache_put(c, "big.example.test", DNS_T_TXT, &a);
	dns_answer_clear(&a);
	tap_ok(!dnscache_get(c, "big.example.test", DNS_T_TXT, &got), "an answer over %d bytes is not kept",
	    DNSCACHE_MAX_BYTES);

	/* A TTL over the cap is cut; an expired entry is a miss. */
	a = answer(DNS_OK, DNS_T_A, 86400, 1);
	dnscache_put(c, "long.example.test", DNS_T_A, &a);
	dns_answer_clear(&a);
	tap_ok(dnscache_get(c, "long.example.test", DNS_T_A, &got), "an answer with a day's TTL is kept");
	tap_ok(got.ttl > 0 && got.ttl <= DNSCACHE_MAX_TTL, "its TTL is cut to %d s (%u)", DNSCACHE_MAX_TTL,
	    got.ttl);
	dns_answer_clear(&got);
	a = answer(DNS_OK, DNS_T_A, 1, 1);
	dnscache_put(c, "short.example.test", DNS_T_A, &a);
	dns_answer_clear(&a);
	sleep(2);
	tap_ok(!dnscache_get(c, "short.example.test", DNS_T_A, &got), "after its TTL, a miss");

	dnscache_free(c);
	dnscache_free(NULL);
	tap_ok(!dnscache_get(NULL, "x.test", DNS_T_A, &got), "NULL cache: a miss");
	return tap_done();
}
