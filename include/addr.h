/*
 * addr.h - SMTP paths (the argument of MAIL FROM and RCPT TO) parsed and
 * classified.
 *
 * The parser takes the path exactly as the client typed it (libmilter
 * passes it through unchanged, brackets, quotes and source routes
 * included), never allocates and never trusts a length: every size is
 * bounded by caps.h.  It reports the forms that hide another destination
 * behind a local-looking domain (RFC 2505 2.5, 2.6; RFC 5321 3.6.1 and
 * Appendix C on source routes), because an MTA may honour them after the
 * filter has looked:
 *
 *   <@a,@b:user@c>     source route         ADDR_SOURCE_ROUTE
 *   <user%host@local>  percent hack         ADDR_PERCENT
 *   <host!user@local>  UUCP bang path       ADDR_BANG
 *   <"user@host"@local> quoted local part holding @, % or !  ADDR_QUOTED_ROUTE
 *   <user@host@local>  nested @             ADDR_NESTED_AT
 *
 * Domain literals (user@[192.0.2.1]) are parsed into .literal and flagged
 * ADDR_LITERAL; whether the literal is one of ours is the caller's test.
 * Pure functions, thread-safe.
 */
#ifndef RG_ADDR_H
#define RG_ADDR_H

#include <stdbool.h>

#include "caps.h"
#include "ipaddr.h"

enum addr_status {
	ADDR_OK = 0,
	ADDR_TOO_LONG,	 /* path, local part or domain over its cap */
	ADDR_BAD_CHAR,	 /* control character or DEL */
	ADDR_BAD_SYNTAX, /* anything else that is not a path */
};

#define ADDR_NULL		0x0001	/* <> */
#define ADDR_NO_DOMAIN		0x0002	/* <user>, e.g. <postmaster> */
#define ADDR_SOURCE_ROUTE	0x0004
#define ADDR_PERCENT		0x0008
#define ADDR_BANG		0x0010
#define ADDR_QUOTED		0x0020	/* local part was a quoted string */
#define ADDR_QUOTED_ROUTE	0x0040	/* ... holding @, % or ! */
#define ADDR_NESTED_AT		0x0080
#define ADDR_LITERAL		0x0100	/* domain is [address] */
#define ADDR_NO_BRACKETS	0x0200	/* client omitted < > */

/* The forms that hide another destination. */
#define ADDR_HIDES_ROUTE \
	(ADDR_SOURCE_ROUTE | ADDR_PERCENT | ADDR_BANG | ADDR_QUOTED_ROUTE | ADDR_NESTED_AT)

struct addr {
	unsigned flags;
	/* Local part, dequoted (quotes and backslash escapes removed). */
	char local[CAP_LOCALPART_LEN + 1];
	/* Domain: lowercase, without a trailing dot; for a literal, the text
	 * between the brackets.  Empty for ADDR_NULL and ADDR_NO_DOMAIN. */
	char domain[CAP_DOMAIN_LEN + 1];
	struct ipaddr literal;	/* set when ADDR_LITERAL */
};

/*
 * Parse RAW (NUL-terminated, as the client typed it; surrounding white
 * space is ignored).  On ADDR_OK *OUT is filled; on any other status *OUT
 * is zeroed.  RAW NULL is ADDR_BAD_SYNTAX.
 */
enum addr_status addr_parse(const char *raw, struct addr *out);

/* Does A use one of the ADDR_HIDES_ROUTE forms? */
bool addr_hides_route(const struct addr *a);

/* Is A the bare <postmaster> of RFC 5321 4.5.1 (any case)? */
bool addr_is_bare_postmaster(const struct addr *a);

/*
 * PATH as typed, without surrounding blanks and one pair of angle brackets
 * ("a@b" for " <a@b> "), into OUT of SIZE bytes (cut if longer).  For
 * replies and rule fields; not a parser: nothing is checked.
 */
void addr_bare(const char *path, char *out, size_t size);

/* Short name of a status for logs and what-if output ("too long", ...). */
const char *addr_status_name(enum addr_status st);

/* A short name of the first hiding form in A ("percent hack", ...), or NULL. */
const char *addr_route_form(const struct addr *a);

#endif
