/*
 * cidr.h - sets of IPv4 and IPv6 networks.
 *
 * Build with cidrset_add, then cidrset_freeze (sort and merge into
 * disjoint ranges); after that the set is immutable and cidrset_contains
 * is a binary search that any number of threads may run at once.
 * Lookup cost is O(log n): 10,000 networks take about 14 comparisons.
 */
#ifndef RG_CIDR_H
#define RG_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

struct cidrset;

/* A new empty set, or NULL when out of memory. */
struct cidrset *cidrset_new(void);

/* Accepts NULL. */
void cidrset_free(struct cidrset *set);

/*
 * Add TEXT: an address ("192.0.2.1", "::1") or a network in CIDR form
 * ("10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0").  On error returns false and
 * points *ERR at a static description: bad address, bad prefix length,
 * host bits set (the mistake "10.1.2.3/8" is refused, not guessed at).
 */
bool cidrset_add(struct cidrset *set, const char *text, const char **err);

/* Sort and merge; call once after the last add.  False when out of memory. */
bool cidrset_freeze(struct cidrset *set);

/* Does the frozen SET contain IP?  NULL set or unset IP: false. */
bool cidrset_contains(const struct cidrset *set, const struct ipaddr *ip);

/* Number of entries added (before merging); 0 for NULL. */
size_t cidrset_count(const struct cidrset *set);

#endif
