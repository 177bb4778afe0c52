/*
 * rule.h - one parsed rule of an administrator's rule file (the types;
 * ruleparse.h reads them, ruleset.h holds them, ruleeval.h runs them).
 *
 * A rule is: the stage it runs at, an optional main test (a field and a
 * PCRE2 pattern, whose captures $1..$9 the action's text may use), any
 * number of conditions (facts about the session, or more field patterns),
 * all of which must hold, and one action.  The syntax is documented in
 * relayguard.rules(5).  A rule never changes after its set is loaded.
 */
#ifndef RG_RULE_H
#define RG_RULE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

#include "decide.h"
#include "reply.h"

/* What a pattern is matched against. */
enum rfield {
	RF_NONE = 0,	/* no pattern: the rule tests only its conditions */
	RF_CLIENT,	/* connect without a field: the client's name, then its address */
	RF_ADDR,	/* the client's IP address, as text */
	RF_NAME,	/* the client's host name as the MTA gives it ("unknown" if none) */
	RF_HELO,	/* the HELO/EHLO argument ("" before HELO) */
	RF_SENDER,	/* MAIL FROM without brackets; "<>" for the null sender */
	RF_RCPT,	/* RCPT TO without brackets (after RCPT: any accepted recipient) */
	RF_MACRO,	/* an MTA macro, {name} */
	RF_HEADER,	/* header NAME: the value */
	RF_HEADER_LINE,	/* header without a name: "Name: value" */
	RF_BODY,	/* one body line, without its line end */
};

/* Built-in facts a condition can test. */
enum rfact {
	RFACT_TRUSTED = 0,	/* client in trusted_networks and not in never_relay_networks */
	RFACT_AUTHENTICATED,	/* SMTP AUTH succeeded */
	RFACT_INTERNAL,		/* connected to an internal_interfaces address */
	RFACT_MAY_RELAY,	/* any of the above (with relay_authenticated), or a RELAY rule */
	RFACT_NULL_SENDER,	/* MAIL FROM:<> */
	RFACT_LOCAL_RCPT,	/* this recipient is local; after RCPT: every recipient is */
	RFACT_EXTERNAL_RCPT,	/* this recipient is not local; after RCPT: every recipient is not */
	RFACT_COUNT
};

struct rtest {
	bool is_fact;
	bool negate;		/* "!": the test holds when the fact or pattern does not */
	enum rfact fact;
	enum rfield field;
	char *name;		/* RF_MACRO: the macro as the session stores it ("i", "{auth_authen}");
				 * RF_HEADER: the header name */
	pcre2_code *re;		/* NULL for facts and RF_NONE */
	char *source;		/* "/pattern/flags" as written, for diagnostics */
	bool extended;		/* x flag, for the prefilter */
	unsigned ncaptures;
};

enum raction {
	RA_OK = 0,	/* accept: skip the remaining rules and listed checks of the scope */
	RA_DUNNO,	/* stop this stage's rules, decide nothing */
	RA_REFUSE,	/* REJECT, DEFER/TEMPFAIL, bare 4NN/5NN: the reply's class says which */
	RA_DISCARD,	/* accept and drop (the recipient at RCPT, else the message) */
	RA_TURF,	/* the same, with a copy kept in turf_dir (turf.h) */
	RA_QUARANTINE,	/* accept into the MTA's hold queue */
	RA_PREPEND,	/* add a header */
	RA_WARN,	/* log only */
	RA_RELAY,	/* the client (connect) or this recipient (rcpt) may relay */
	RA_SKIP,	/* skip the named built-in checks for the scope */
	RA_COUNT
};

struct rule {
	char *id;		/* the rule's name, or "file:line" */
	char *file;
	unsigned line;
	size_t index;		/* position in its set: first match wins */
	enum stage stage;
	struct rtest main;	/* field RF_NONE when the rule has no pattern */
	struct rtest *conds;
	size_t nconds;
	enum raction action;
	struct reply_tmpl reply; /* RA_REFUSE; the text may hold $1 .. $9 */
	char *text;		/* WARN, QUARANTINE, DISCARD (may be NULL), PREPEND value */
	char *hname;		/* PREPEND header name */
	unsigned long skip;	/* RA_SKIP: 1 << enum check_id */
};

#endif
