/*
 * prefilter.h - literal prefilters that let many rules be matched in time
 * that grows with the input, not with the number of rules.
 *
 * PCRE2 has no multi-pattern API (LIBRARIES 4), so a rule set is not one
 * big automaton.  Instead each pattern is read once at load for a literal
 * it cannot match without: a run of plain characters that every match
 * contains ("example.com" in /@example\.com$/).  The literals of all the
 * rules that look at one field go into one Aho-Corasick automaton; one
 * pass over the input names the rules whose literal occurs, and only those
 * rules (plus the few without a literal) run their PCRE2 pattern.  A
 * prefilter may name a rule that then does not match (that is what the
 * pattern is for) but never leaves out a rule that would match.
 *
 * Everything is compared folded: ASCII lowercase, and the two non-ASCII
 * characters PCRE2's caseless UTF matching equates with ASCII letters
 * (U+212A KELVIN SIGN with k, U+017F LONG S with s) read as those letters,
 * so a caseless pattern never loses a match.  Literals are ASCII only.
 *
 * Building is not thread-safe; a built prefilter is read-only and any
 * number of threads may scan it at once.
 */
#ifndef RG_PREFILTER_H
#define RG_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PREFILTER_LIT_MAX 32	/* a longer literal is cut (a prefix is still required) */
#define PREFILTER_ALTS_MAX 8	/* top-level alternatives a pattern may have and keep a prefilter */

/* The literals of one pattern: a match contains at least one of them. */
struct prefilter_lits {
	size_t n;
	size_t len[PREFILTER_ALTS_MAX];
	unsigned char lit[PREFILTER_ALTS_MAX][PREFILTER_LIT_MAX];
};

/*
 * Find literals in the PCRE2 pattern RE (RELEN bytes; EXTENDED when the x
 * flag is on).  Returns false when the pattern has no literal this reader
 * can vouch for (constructs it does not model are treated that way), so
 * the caller must always run that pattern.  Literals come out folded.
 */
bool prefilter_extract(const char *re, size_t relen, bool extended, struct prefilter_lits *out);

struct prefilter;

/* A new, empty prefilter; NULL when out of memory. */
struct prefilter *prefilter_new(void);

/* Accepts NULL. */
void prefilter_free(struct prefilter *pf);

/* Add literal LIT (LEN >= 1 bytes, already folded) for the rule ID; false when out of memory. */
bool prefilter_add(struct prefilter *pf, const unsigned char *lit, size_t len, uint32_t id);

/* Finish building (fail links, compact tables); false when out of memory. */
bool prefilter_build(struct prefilter *pf);

/* Number of automaton states (for -n -v and the benchmark). */
size_t prefilter_states(const struct prefilter *pf);

typedef void (*prefilter_hit_fn)(uint32_t id, void *arg);

/*
 * Scan LEN bytes of S (any bytes, NULs included) and call HIT for the id of
 * every literal that occurs, as often as it occurs.  Needs a built prefilter.
 */
void prefilter_scan(const struct prefilter *pf, const unsigned char *s, size_t len, prefilter_hit_fn hit,
    void *arg);

#endif
