/*
 * spfrec.h - SPF record syntax (RFC 7208 12, the collected ABNF), checked
 * before libspf2 compiles a record.
 *
 * libspf2 1.2.10 accepts records RFC 7208 calls syntax errors (a domain
 * without a valid top label, "ptr:" with nothing after it, a modifier
 * given twice, "exists:host/24", a CIDR length with a leading zero,
 * characters outside printable ASCII) and refuses some it must accept (an
 * unknown modifier whose name holds "." or "_").  RFC 7208 4.6 makes a
 * syntax error a permerror, so the whole record is checked here first,
 * and what libspf2 gets is the same record with single spaces, without
 * unknown modifiers (RFC 7208 6: ignored) and without redirect= when an
 * "all" mechanism is present (RFC 7208 6.1: then redirect is ignored).
 *
 * Pure functions, thread-safe.
 */
#ifndef RG_SPFREC_H
#define RG_SPFREC_H

#include <stdbool.h>
#include <stddef.h>

/* Longest record accepted (longer: permerror "record too long"). */
#define SPFREC_MAX 4096

/*
 * Check the SPF record RECORD (LEN bytes; it starts with "v=spf1") and
 * write the record for libspf2, evaluated for a client of FAMILY
 * (AF_INET, AF_INET6), into OUT (SIZE bytes, at least 2 * LEN + 16).
 * Besides the changes above, CIDR lengths of 0, which libspf2 1.2.10
 * refuses although RFC 7208 5.6 allows them, are rewritten into
 * equivalent terms where SPF can say the same for that family.  False on
 * a syntax error, with *WHY pointing at a static description.
 */
bool spfrec_prepare(const char *record, size_t len, int family, char *out, size_t size,
    const char **why);

/*
 * Is TEXT (LEN bytes) a valid explanation string (RFC 7208 6.2, 7.1:
 * explain-string)?  An invalid one is ignored for the default.
 */
bool spfrec_explanation_ok(const char *text, size_t len);

/* Is S (LEN bytes) a valid domain-spec (RFC 7208 7.1)? */
bool spfrec_domain_spec_ok(const char *s, size_t len);

#endif
