/*
 * ruleeval_priv.h - what ruleeval.c (matching) and ruleact.c (what a
 * matched rule does) share: the per-session rule state and one event
 * being evaluated.
 */
#ifndef RG_RULEEVAL_PRIV_H
#define RG_RULEEVAL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "caps.h"
#include "reply.h"
#include "rule.h"
#include "ruleeval.h"
#include "ruleset_priv.h"
#include "session_priv.h"

#define OVEC_PAIRS 10	/* $0 .. $9 */

/* What an action affects afterwards (ruleeval.h "Scopes"). */
enum scope { SC_CONN = 0, SC_HELO, SC_MSG, SC_RCPT, SC_COUNT };

struct hdr {
	char *name, *value;
};

struct scope_state {
	bool used;		/* something below was set (ruleact_clear has work) */
	unsigned long skip;	/* built-in checks skipped (OK, SKIP) */
	bool rules_off;		/* OK or SKIP rules: no more rules in the scope */
	bool relay;		/* RELAY */
	/* connect, helo, mail: a refusal given at every RCPT */
	bool refusal;
	struct reply_tmpl tmpl;
	char refusal_by[CAP_DECIDER];
	char refusal_detail[64];
	/* DISCARD or TURF: connect, helo (every message), message (at eom); the first stands */
	enum action drop;	/* ACT_CONTINUE (none), ACT_DISCARD or ACT_TURF */
	char drop_why[WHY_MAX];	/* "by: detail", as decide.c's turf records it */
	/* connect, helo: applied to every message of the connection */
	char *quarantine;
	struct hdr *hdrs;
	size_t nhdrs;
};

struct rulestate {
	struct scope_state sc[SC_COUNT];
	unsigned char *line;		/* body line being assembled (CAP_RULE_BODY_LINE) */
	size_t linelen;
	long body_seen;			/* body bytes looked at, up to rules_body_limit */
};

/* One event being evaluated, and the rule that matched it. */
struct event {
	struct session *s;
	const struct ruleset *rs;
	struct tls *t;
	enum stage stage;		/* the rules' stage */
	const unsigned char *line;	/* body line */
	size_t linelen;
	char *hline;			/* "Name: value", built on first use (CAP_RULE_HEADER + 1) */
	size_t hlinelen;
	bool hline_built;
	/* the result */
	const struct rule *rule;
	int err;			/* PCRE2 error code of a failed match */
	const unsigned char *subj;	/* what the main pattern matched, for $1 */
	size_t subjlen;
	char subjbuf[CAP_ADDR_LEN + 8];
	PCRE2_SIZE ovec[2 * OVEC_PAIRS];
	uint32_t npairs;
};

/* ---- ruleact.c ---- */

/* The scope of a rule of STAGE. */
enum scope ruleact_scope(enum stage st);

/* Do what EV->rule says; fill V.  CHECK_DONE when the rule ended the stage's checks. */
enum check_res ruleact_apply(struct event *ev, struct verdict *v);

/* A pattern of EV->rule failed (EV->err): a temporary failure. */
enum check_res ruleact_error(struct event *ev, struct verdict *v);

/* At MAIL: what connect and helo rules decided for every message. */
bool ruleact_message_start(struct session *s);

/* At RCPT: a refusal decided at connect, helo or mail.  CHECK_DONE with V filled if any. */
enum check_res ruleact_pending(struct session *s, struct verdict *v);

/*
 * At eom: a DISCARD or TURF decided for the message is handed to
 * decide.c's turf (the whole message, or every recipient but the exempt
 * ones).  CHECK_DONE with V filled when monitor mode only logs it; V may
 * hold a note otherwise.
 */
enum check_res ruleact_finish_message(struct session *s, struct verdict *v);

/* Recompute s->skip and s->rule_relay from the scopes. */
void ruleact_recompute(struct session *s);

/* Free and zero one scope. */
void ruleact_clear(struct scope_state *ss);

/* Does any scope say "no more rules"? */
bool ruleact_rules_off(const struct rulestate *st);

#endif
