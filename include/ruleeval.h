/*
 * ruleeval.h - running the administrator's rules at each SMTP stage: the
 * "rules" check (CHK_RULES) of decide.c's stage tables.
 *
 * Per event (the connection, HELO, MAIL, each RCPT, each header, each
 * body line, end of message) the rules of that stage are tried in file
 * order and the first that matches decides (Postfix's first-match rule).
 * A literal prefilter picks the rules worth trying (prefilter.h), so the
 * cost grows with the input, not with the number of rules.
 *
 * Where the rules run (the stage tables in decide.c):
 *   connect         before clients and the connection limits; refusals
 *                   are delayed
 *   helo            the only checks of the stage; refusals are delayed
 *   mail            after the sender's syntax check, before the limits and
 *                   turf_senders; refusals are delayed
 *   rcpt            after syntax and the postmaster exemption, before the
 *                   relay check and every other built-in check, so a rule
 *                   can OK, SKIP or RELAY for them; delayed refusals of
 *                   connect, helo and mail are given here, once per
 *                   recipient, so postmaster stays reachable (DESIGN) and
 *                   every refusal is logged with its recipient
 *   header, body    each header, each body line (the first rules_body_limit
 *                   bytes, long lines in pieces of CAP_RULE_BODY_LINE)
 *   eom             the last body line, the eom rules, then a DISCARD or
 *                   TURF decided earlier for the message is handed to the
 *                   turf of decide.c (carried out there, with its copy)
 *
 * Scopes: what an action at one stage affects afterwards.  connect and
 * helo: the connection (helo: until the next HELO); mail, header, body,
 * eom: the message; rcpt: this recipient.  OK ends the rules of its scope
 * and skips the checks that judge whether mail is wanted (rdns, helo,
 * spf, sender_domain, clients); it never skips syntax, the postmaster
 * exemption, relay, local_recipients, hops, loop, autoreply, turf or
 * limits, and never grants relaying (that is RELAY).  SKIP names checks.
 * What was decided stays decided: an OK does not undo an earlier refusal.
 *
 * A pattern that fails (match limit, depth, heap, JIT stack) is a
 * temporary failure with rules_error_reply, by the rule's id, never a
 * match or a no-match.  Matching uses per-thread match data and JIT stack
 * (LIBRARIES 4), so any number of threads may run sessions at once; one
 * session is used by one thread at a time (session.h).
 */
#ifndef RG_RULEEVAL_H
#define RG_RULEEVAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>

#include "check.h"

struct session;
struct verdict;
struct rulestate;

/* The checks, one per stage (check_fn). */
enum check_res ruleeval_connect(struct session *s, struct verdict *v);
enum check_res ruleeval_helo(struct session *s, struct verdict *v);
enum check_res ruleeval_mail(struct session *s, struct verdict *v);
enum check_res ruleeval_rcpt(struct session *s, struct verdict *v);
enum check_res ruleeval_header(struct session *s, struct verdict *v);	/* s->cur_hdr_name, cur_hdr_value */
enum check_res ruleeval_body(struct session *s, struct verdict *v);	/* s->cur_body, cur_body_len */
enum check_res ruleeval_eom(struct session *s, struct verdict *v);

/* Do body rules still want to see this message's body (or may the MTA skip the rest)? */
bool ruleeval_body_wanted(const struct session *s);

/* The message ended or was aborted: forget what rules decided for it (session_reset_message). */
void ruleeval_message_reset(struct session *s);

/* The current recipient is decided: forget what rules decided for it (end of decide_rcpt). */
void ruleeval_rcpt_done(struct session *s);

/* Free a session's rule state (session_free).  Accepts NULL. */
void ruleeval_free(struct rulestate *st);

/*
 * A match context with MATCH_LIMIT as match and depth limit, a heap limit,
 * and the calling thread's own JIT stack.  Shareable: it is never changed
 * after this returns.  NULL when out of memory.
 */
pcre2_match_context *ruleeval_match_context(long match_limit);

#endif
