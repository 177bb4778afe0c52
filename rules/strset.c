/*
 * strset.c - case-insensitive string set: open addressing, linear probing,
 * FNV-1a over ASCII-lowercased bytes, load factor kept under 1/2.
 * Read-only after building (see strset.h).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strset.h"

struct strset {
	char **slot;	/* NULL = empty */
	size_t nslots;	/* power of two */
	size_t n;
};

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static uint64_t
hash_lower(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= lower((unsigned char)s[i]);
		h *= 1099511628211ULL;
	}
	return h;
}

/* Does the stored (lowercase, NUL-terminated) KEY equal S[0..LEN) folded? */
static bool
key_eq(const char *key, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (key[i] == '\0' || key[i] != (char)lower((unsigned char)s[i]))
			return false;
	return key[len] == '\0';
}

struct strset *
strset_new(void)
{
	struct strset *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->nslots = 16;
	set->slot = calloc(set->nslots, sizeof(char *));
	if (set->slot == NULL) {
		free(set);
		return NULL;
	}
	return set;
}

void
strset_free(struct strset *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nslots; i++)
		free(set->slot[i]);
	free(set->slot);
	free(set);
}

static void
strset_place(char **slots, size_t nslots, char *key)
{
	size_t i = hash_lower(key, strlen(key)) & (nslots - 1);

	while (slots[i] != NULL)
		i = (i + 1) & (nslots - 1);
	slots[i] = key;
}

static bool
strset_grow(struct strset *set)
{
	size_t nslots = set->nslots * 2, i;
	char **slots = calloc(nslots, sizeof(char *));

	if (slots == NULL)
		return false;
	for (i = 0; i < set->nslots; i++)
		if (set->slot[i] != NULL)
			strset_place(slots, nslots, set->slot[i]);
	free(set->slot);
	set->slot = slots;
	set->nslots = nslots;
	return true;
}

bool
strset_add(struct strset *set, const char *s)
{
	size_t len = strlen(s), i;
	char *key;

	if (strset_containsn(set, s, len))
		return true;
	if ((set->n + 1) * 2 > set->nslots && !strset_grow(set))
		return false;
	if ((key = malloc(len + 1)) == NULL)
		return false;
	for (i = 0; i < len; i++)
		key[i] = (char)lower((unsigned char)s[i]);
	key[len] = '\0';
	strset_place(set->slot, set->nslots, key);
	set->n++;
	return true;
}

bool
strset_containsn(const struct strset *set, const char *s, size_t len)
{
	size_t i;

	if (set == NULL || set->n == 0)
		return false;
	i = hash_lower(s, len) & (set->nslots - 1);
	while (set->slot[i] != NULL) {
		if (key_eq(set->slot[i], s, len))
			return true;
		i = (i + 1) & (set->nslots - 1);
	}
	return false;
}

bool
strset_contains(const struct strset *set, const char *s)
{
	return strset_containsn(set, s, strlen(s));
}

size_t
strset_count(const struct strset *set)
{
	return set ? set->n : 0;
}

void
strset_foreach(const struct strset *set, void (*fn)(const char *s, void *arg), void *arg)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nslots; i++)
		if (set->slot[i] != NULL)
			fn(set->slot[i], arg);
}
