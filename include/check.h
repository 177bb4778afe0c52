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
 */
#ifndef RG_CHECK_H
#define RG_CHECK_H

struct session;
struct verdict;

enum check_res { CHECK_NEXT = 0, CHECK_DONE };

typedef enum check_res (*check_fn)(struct session *s, struct verdict *v);

struct check {
	const char *name;	/* as in logs, SKIP lists and monitor lists */
	check_fn run;
};

#endif
