/*
 * verdict.h - what the core decided at one SMTP stage.
 *
 * A verdict is a value: the core fills it, the milter glue turns it into
 * an sfsistat and smfi_setreply, the what-if mode prints it.  The action's
 * reply class is always consistent (REJECT carries 5xx, TEMPFAIL 4xx), so
 * the glue never has to guess.
 */
#ifndef RG_VERDICT_H
#define RG_VERDICT_H

#include <stdbool.h>

#include "caps.h"
#include "reply.h"

enum action {
	ACT_CONTINUE = 0, /* no objection: go on with the session */
	ACT_ACCEPT,	  /* accept the message, skip the rest of our checks */
	ACT_REJECT,	  /* 5xx for this command (one recipient at RCPT) */
	ACT_TEMPFAIL,	  /* 4xx for this command; with code 421 the MTA hangs up */
	ACT_DISCARD,	  /* accept with 250 and drop, no copy */
	ACT_TURF,	  /* accept with 250, keep a copy in turf_dir, drop */
	ACT_QUARANTINE,	  /* accept into the MTA's hold queue */
};

struct verdict {
	enum action action;
	struct reply reply;	  /* set for REJECT and TEMPFAIL */
	char by[CAP_DECIDER];	  /* what decided: "relay", "rdns", "file:line" */
	char detail[CAP_DETAIL];  /* extra facts for the log and what-if */
	bool monitored;		  /* monitor mode turned WOULD into ACT_CONTINUE */
	enum action would;	  /* the action monitor mode suppressed */
	char reason[CAP_REPLY_TEXT]; /* quarantine reason */
	bool note;		  /* log this "continue" too (a rule's OK, WARN, PREPEND, RELAY, SKIP) */
};

/* Reset V to "continue, decided by nobody". */
void verdict_clear(struct verdict *v);

/* Name of an action for logs and what-if ("reject", ...). */
const char *action_name(enum action a);

/* Does this action end the current command with a refusal? */
bool action_is_refusal(enum action a);

#endif
