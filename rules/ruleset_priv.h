/*
 * ruleset_priv.h - the inside of struct ruleset, shared by ruleset.c
 * (which builds it) and ruleeval.c (which runs it).  Read-only once built.
 *
 * Rules are kept in load order; rules[i].index == i, and "first match
 * wins" means the lowest index.  For speed the rules of each stage are
 * grouped by what their main pattern reads (a slot): each slot has a
 * literal prefilter over its rules (prefilter.h) and a list of the rules
 * that must be tried whatever the input (no literal, a negated pattern,
 * no pattern at all).
 */
#ifndef RG_RULESET_PRIV_H
#define RG_RULESET_PRIV_H

#include <stdint.h>

#include "prefilter.h"
#include "rule.h"
#include "ruleset.h"

struct rslot {
	enum stage stage;
	enum rfield field;	/* RF_NONE: the stage's rules without a main pattern */
	char *name;		/* RF_HEADER (compared without case), RF_MACRO */
	struct prefilter *pf;	/* NULL when no rule of the slot has a literal */
	uint32_t *always;	/* rules to try whatever the input, ascending */
	size_t nalways;
	size_t nrules;		/* rules in the slot */
};

struct ruleset {
	struct rule *rules;
	size_t nrules, caprules;
	struct rslot *slots;	/* grouped by stage: slots[first[st] .. first[st] + count[st]) */
	size_t nslots;
	size_t first[STAGE_COUNT], count[STAGE_COUNT];
	pcre2_match_context *mc; /* limits and the per-thread JIT stack; shared, never changed */
	unsigned needs;
	char **files;		/* the files read, in order */
	size_t *file_rules;	/* rules per file */
	size_t nfiles;
	size_t nprefiltered;	/* rules reached through a literal */
};

#endif
