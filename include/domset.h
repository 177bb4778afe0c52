/*
 * domset.h - sets of domain names.
 *
 * Matching ignores ASCII case and one trailing dot.  An entry "example.com"
 * matches that name only; an entry ".example.com" matches every subdomain
 * of example.com (but not example.com itself: list both for both).  This
 * keeps the DESIGN.md rule that subdomains are not local unless configured.
 * Thread-safety as strset: build, then share read-only.
 */
#ifndef RG_DOMSET_H
#define RG_DOMSET_H

#include <stdbool.h>
#include <stddef.h>

struct domset;

struct domset *domset_new(void);
void domset_free(struct domset *set);	/* accepts NULL */

/*
 * Add NAME ("example.com", "example.com.", ".example.com").  A name must be
 * a syntactically valid host name (letters, digits, hyphens, underscores,
 * labels of 1-63 bytes, at most 253 bytes); otherwise false with *ERR set.
 */
bool domset_add(struct domset *set, const char *name, const char **err);

/* Does SET contain DOMAIN (as typed by a client: any case, trailing dot)? */
bool domset_contains(const struct domset *set, const char *domain);

size_t domset_count(const struct domset *set);

/*
 * Is NAME a syntactically valid DNS host name (RFC 1123 2.1 with "_"
 * tolerated)?  One trailing dot is allowed.
 */
bool domain_is_valid(const char *name);

#endif
