/*
 * cidr.c - network sets as sorted, merged ranges (see cidr.h).
 *
 * Every network becomes a closed range [lo, hi] of 128-bit keys (IPv4 in
 * its own list, 32-bit keys widened).  Freezing sorts by lo and merges
 * overlapping or adjacent ranges, so lookup is one binary search for the
 * last range with lo <= key.  Frozen sets are read-only.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

struct key {
	uint64_t hi, lo;
};

struct range {
	struct key lo, hi;
};

struct rangelist {
	struct range *r;
	size_t n, cap;
};

struct cidrset {
	struct rangelist v4, v6;
	size_t added;
	bool frozen;
};

static int
key_cmp(const struct key *x, const struct key *y)
{
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static struct key
key_from(const struct ipaddr *ip)
{
	struct key k = {0, 0};
	int i;

	if (ip->family == AF_INET) {
		for (i = 0; i < 4; i++)
			k.lo = (k.lo << 8) | ip->a[i];
		return k;
	}
	for (i = 0; i < 8; i++)
		k.hi = (k.hi << 8) | ip->a[i];
	for (i = 8; i < 16; i++)
		k.lo = (k.lo << 8) | ip->a[i];
	return k;
}

/* Key + 1, saturating at all-ones (used to merge adjacent ranges). */
static bool
key_next(const struct key *k, struct key *out)
{
	*out = *k;
	if (++out->lo == 0 && ++out->hi == 0)
		return false;
	return true;
}

struct cidrset *
cidrset_new(void)
{
	return calloc(1, sizeof(struct cidrset));
}

void
cidrset_free(struct cidrset *set)
{
	if (set == NULL)
		return;
	free(set->v4.r);
	free(set->v6.r);
	free(set);
}

static bool
rangelist_push(struct rangelist *l, const struct range *r)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct range *n = realloc(l->r, ncap * sizeof(*n));

		if (n == NULL)
			return false;
		l->r = n;
		l->cap = ncap;
	}
	l->r[l->n++] = *r;
	return true;
}

/* Parse "ADDR[/LEN]" into an address and prefix length. */
static bool
cidr_parse(const char *text, struct ipaddr *ip, unsigned *bits, const char **err)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	if (alen == 0 || alen >= sizeof(buf)) {
		*err = "not an IP address or network";
		return false;
	}
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	/* Parse without folding IPv4-mapped forms so ::ffff:0:0/96 keeps its meaning. */
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->a) == 1) {
		ip->family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, ip->a) == 1) {
		ip->family = AF_INET6;
	} else {
		*err = "not an IP address or network";
		return false;
	}
	max = ip->family == AF_INET ? 32 : 128;
	*bits = max;
	if (slash != NULL) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 || v > max) {
			*err = "bad prefix length";
			return false;
		}
		*bits = (unsigned)v;
	}
	/* ::ffff:a.b.c.d/N (N >= 96) is the IPv4 network a.b.c.d/(N-96): clients
	 * are always looked up in IPv4 form (ipaddr.h). */
	if (ip->family == AF_INET6 && *bits >= 96 &&
	    memcmp(ip->a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		memset(ip->a + 4, 0, 12);
		ip->family = AF_INET;
		*bits -= 96;
	}
	return true;
}

bool
cidrset_add(struct cidrset *set, const char *text, const char **err)
{
	struct ipaddr ip, masked;
	struct range r;
	unsigned bits;

	if (!cidr_parse(text, &ip, &bits, err))
		return false;
	masked = ip;
	ipaddr_mask(&masked, bits);
	if (!ipaddr_equal(&ip, &masked)) {
		*err = "host bits set after the prefix length";
		return false;
	}
	r.lo = key_from(&masked);
	/* hi = lo with all host bits set */
	{
		unsigned hostbits = (ip.family == AF_INET ? 32u : 128u) - bits;

		r.hi = r.lo;
		if (hostbits >= 64) {
			r.hi.lo = ~(uint64_t)0;
			r.hi.hi |= hostbits >= 128 ? ~(uint64_t)0 : (((uint64_t)1 << (hostbits - 64)) - 1);
		} else if (hostbits > 0) {
			r.hi.lo |= ((uint64_t)1 << hostbits) - 1;
		}
	}
	if (!rangelist_push(ip.family == AF_INET ? &set->v4 : &set->v6, &r)) {
		*err = "out of memory";
		return false;
	}
	set->added++;
	set->frozen = false;
	return true;
}

static int
range_cmp(const void *x, const void *y)
{
	return key_cmp(&((const struct range *)x)->lo, &((const struct range *)y)->lo);
}

static void
rangelist_merge(struct rangelist *l)
{
	size_t i, out = 0;

	if (l->n == 0)
		return;
	qsort(l->r, l->n, sizeof(*l->r), range_cmp);
	for (i = 1; i < l->n; i++) {
		struct key next;
		bool has_next = key_next(&l->r[out].hi, &next);

		if (!has_next || key_cmp(&l->r[i].lo, &next) <= 0) {
			if (key_cmp(&l->r[i].hi, &l->r[out].hi) > 0)
				l->r[out].hi = l->r[i].hi;
		} else {
			l->r[++out] = l->r[i];
		}
	}
	l->n = out + 1;
}

bool
cidrset_freeze(struct cidrset *set)
{
	rangelist_merge(&set->v4);
	rangelist_merge(&set->v6);
	set->frozen = true;
	return true;
}

bool
cidrset_contains(const struct cidrset *set, const struct ipaddr *ip)
{
	const struct rangelist *l;
	struct key k;
	size_t lo = 0, hi;

	if (set == NULL || (ip->family != AF_INET && ip->family != AF_INET6))
		return false;
	l = ip->family == AF_INET ? &set->v4 : &set->v6;
	k = key_from(ip);
	hi = l->n;
	/* find the first range with lo > k; the candidate is the one before it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&l->r[mid].lo, &k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && key_cmp(&k, &l->r[lo - 1].hi) <= 0;
}

size_t
cidrset_count(const struct cidrset *set)
{
	return set ? set->added : 0;
}
