/*
 * ruleparse.h - the rule-file line parser: one logical line (comments
 * and continuation lines are the caller's business) into a struct rule.
 *
 *   [NAME:] STAGE [FIELD] [[!]/PCRE/FLAGS] [if TEST [and TEST]...] ACTION [ARGS]
 *
 * The whole language, with examples, is in relayguard.rules(5).  The
 * parser never logs: every problem is one "file:line: problem" diagnostic
 * (STYLE 8).  Patterns are compiled here, so a bad pattern is a load
 * error with its offset, never a surprise at match time; they are
 * JIT-compiled too, which modifies the code, so a parsed rule must not be
 * shared with other threads until its set is published (snapshot_install).
 */
#ifndef RG_RULEPARSE_H
#define RG_RULEPARSE_H

#include "diag.h"
#include "rule.h"

#define RULE_PATTERN_MAX 4096	/* bytes of one pattern (pcre2_set_max_pattern_length) */
#define RULE_PARENS_MAX 64	/* nesting of parentheses (pcre2_set_parens_nest_limit) */

/*
 * The compile context rule patterns use: CRLF, CR or LF end a line
 * (PCRE2_NEWLINE_ANYCRLF: bodies arrive with CRLF), bounded length and
 * nesting.  NULL when out of memory; free with pcre2_compile_context_free.
 */
pcre2_compile_context *ruleparse_context(void);

/*
 * Parse LINE, found at FILE:LINENO, into *R (which the caller zeroed).
 * A rule without a name gets the id IDFILE:LINENO (IDFILE is FILE as the
 * administrator refers to it, e.g. relative to the configuration).
 * Returns false with one diagnostic added to D; *R is then freed and
 * zeroed.  On success the caller owns what *R holds (ruleparse_free).
 */
bool ruleparse_line(const char *line, const char *file, const char *idfile, unsigned lineno,
    pcre2_compile_context *cc, struct rule *r, struct diag *d);

/* Free what *R holds, not R itself, and zero it; accepts a zeroed rule. */
void ruleparse_free(struct rule *r);

/* The keyword of an action for logs and -n -v ("REJECT" for every refusal). */
const char *ruleparse_action_name(enum raction a);

/* The keyword of a field ("addr", "header", "{macro}"...). */
const char *ruleparse_field_name(enum rfield f);

/* The keyword of a fact ("trusted", ...). */
const char *ruleparse_fact_name(enum rfact f);

#endif
