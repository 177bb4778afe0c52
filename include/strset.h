/*
 * strset.h - case-insensitive sets of short strings (ASCII case folding).
 *
 * An open-addressing hash table.  Build with strset_add; afterwards any
 * number of threads may call strset_contains at once (lookups never
 * modify the table).
 */
#ifndef RG_STRSET_H
#define RG_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset;

struct strset *strset_new(void);	/* NULL when out of memory */
void strset_free(struct strset *set);	/* accepts NULL */

/* Add S (copied, folded to lowercase).  False only when out of memory. */
bool strset_add(struct strset *set, const char *s);

/* Membership of the first LEN bytes of S; NULL set: false. */
bool strset_containsn(const struct strset *set, const char *s, size_t len);
bool strset_contains(const struct strset *set, const char *s);

size_t strset_count(const struct strset *set);	/* 0 for NULL */

/* Call FN for every member, in no particular order. */
void strset_foreach(const struct strset *set, void (*fn)(const char *s, void *arg), void *arg);

#endif
