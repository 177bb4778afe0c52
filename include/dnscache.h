/*
 * dnscache.h - a small cache of parsed DNS answers in front of libunbound.
 *
 * Why, when libunbound has a cache: in threaded mode a libunbound lookup,
 * even one answered from its cache, goes from the asking thread to
 * libunbound's thread and back through our dispatcher thread (dns.c): three
 * thread switches and two pipes per lookup.  A message needs four to six
 * lookups (PTR, its forward confirmation, SPF, the sender domain's MX), so
 * on a small virtual machine these hops cost more CPU than the whole
 * policy.  Here a repeated lookup is a hash probe under a shard lock in the
 * asking thread.  libunbound stays the resolver and the authority on TTLs;
 * this cache only keeps its answers for as long as their TTL allows.
 *
 * What is kept: answers with records (DNS_OK), and "no such name" or "no
 * such record" (DNS_NXDOMAIN, DNS_NODATA) when libunbound gave them a TTL;
 * for at most the answer's TTL and never longer than DNSCACHE_MAX_TTL
 * seconds.  A temporary failure is never kept: the next lookup asks again.
 * Answers over DNSCACHE_MAX_BYTES of record data are not kept either.
 *
 * Size and eviction: a fixed number of slots (set at creation), in shards
 * with a lock each; a name and type always map to one slot, and a new
 * answer replaces whatever that slot held (direct-mapped, like a CPU
 * cache): memory is bounded by slots x DNSCACHE_MAX_BYTES, and a busy name
 * pushed out by a collision is simply looked up again.
 *
 * Keys: the name as asked, ASCII case ignored, plus the record type.
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef RG_DNSCACHE_H
#define RG_DNSCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define DNSCACHE_MAX_TTL	3600	/* seconds; longer TTLs are cut to this */
#define DNSCACHE_MAX_BYTES	2048	/* record data of one answer, beyond that not kept */

struct dnscache;

/* A cache of SLOTS answers (rounded up to a power of two), or NULL when out of memory. */
struct dnscache *dnscache_new(size_t slots);

/* Accepts NULL. */
void dnscache_free(struct dnscache *c);

/*
 * Look NAME/TYPE up.  True: *OUT holds a copy of the answer (free its
 * records with dns_answer_clear), its ttl what is left of it.  False on a
 * miss, an expired entry or when out of memory; *OUT is then untouched.
 * C NULL: false.
 */
bool dnscache_get(struct dnscache *c, const char *name, int type, struct dns_answer *out);

/*
 * Keep a copy of A as the answer for NAME/TYPE if it may be kept (see
 * above); otherwise, or when out of memory, nothing happens.  C NULL: no-op.
 */
void dnscache_put(struct dnscache *c, const char *name, int type, const struct dns_answer *a);

#endif
