/*
 * check.h - the shape of one built-in check.
 *
 * A check is a short predicate on the session (STYLE 4).  It returns
 * CHECK_NEXT when it has no objection (the next check of the stage runs)
 * or CHECK_DONE when it decided: *V then holds the verdict, which may be a
 * refusal or an explicit "continue" that ends the stage's checks (an
 * exemption such as postmaster).  Temporary failures are decided as 4xx
 * refusals by the check itself: a check never turns "could not tell" into
 * a 5xx (RFC 2505 2.9).
 *
 * Every check has an id.  Ids name checks in logs and what-if output, and
 * select them in SKIP lists (a rule can exempt a session from named checks)
 * and per-check monitor lists.
 */
#ifndef RG_CHECK_H
#define RG_CHECK_H

#include <stdbool.h>

struct session;
struct verdict;

enum check_res { CHECK_NEXT = 0, CHECK_DONE };

enum check_id {
	CHK_SYNTAX = 0,		/* malformed addresses (never skippable) */
	CHK_ALWAYS_ACCEPT,	/* postmaster exemption (never skippable) */
	CHK_RELAY,
	CHK_LOCAL_RECIPIENTS,
	CHK_RDNS,		/* reverse DNS of the client */
	CHK_HELO,		/* HELO/EHLO argument */
	CHK_SPF,		/* SPF of MAIL FROM (HELO for <>) */
	CHK_SENDER_DOMAIN,	/* MAIL FROM domain exists */
	CHK_HOPS,		/* Received: count */
	CHK_LOOP,		/* repeat/loop detection */
	CHK_AUTOREPLY,		/* auto-replies to the outside */
	CHK_TURF,		/* turf_senders, blackhole_recipients */
	CHK_CLIENTS,		/* deny_clients, allow_clients */
	CHK_LIMITS,		/* flood and rate limits */
	CHK_RULES,		/* administrators' rule files */
	CHK_COUNT
};

typedef enum check_res (*check_fn)(struct session *s, struct verdict *v);

struct check {
	enum check_id id;
	check_fn run;
};

/* Name of a check id ("relay", "rdns", ...). */
const char *check_name(enum check_id id);

/* Id of a check name; false if there is no such check. */
bool check_by_name(const char *name, enum check_id *out);

/* May a SKIP list name this check?  (syntax and always_accept may not.) */
bool check_skippable(enum check_id id);

#endif
