/*
 * ruleset.h - the administrator's rule files, loaded as one set.
 *
 * "rules = /etc/relayguard/rules.d/[*].rules" (globs or files, separated by
 * white space or commas, relative names taken from the configuration's
 * directory) loads every file in order, each glob's matches sorted by
 * name.  Loading is all or nothing: every problem of every file is a
 * "file:line: problem" diagnostic and any error loads nothing, so a
 * reload with a broken file keeps the running set (DESIGN "Reload is all
 * or nothing").  A file or directory that group or others may write, or
 * that belongs to someone other than root or us, is refused (fsafe.h).
 *
 * A loaded set is part of a snapshot: immutable, shared by every thread
 * that holds the snapshot.  Patterns are compiled and JIT-compiled while
 * loading, before the set is published, so matching never modifies them
 * (LIBRARIES 4).
 */
#ifndef RG_RULESET_H
#define RG_RULESET_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"

struct ruleset;

/*
 * Load the files CFG's "rules" key names (none: an empty set).  Every file
 * read is recorded with config_watch, so reload_on_change sees edits.
 * Returns NULL with D filled on any error; free with ruleset_free.
 */
struct ruleset *ruleset_load(struct config *cfg, struct diag *d);

/*
 * A set from TEXT, as if read from a file called NAME (unit tests, the
 * benchmark).  MATCH_LIMIT as rules_match_limit.  NULL with D filled on error.
 */
struct ruleset *ruleset_from_text(const char *text, const char *name, long match_limit, struct diag *d);

/* Accepts NULL. */
void ruleset_free(struct ruleset *rs);

/* Number of rules (0 for NULL). */
size_t ruleset_count(const struct ruleset *rs);

/*
 * NEED_HEADERS / NEED_BODY (snapshot.h) when some rule looks at headers /
 * the body; NEED_TURF_COPY when a rule may TURF a message at its end.
 */
unsigned ruleset_needs(const struct ruleset *rs);

/* Is ID the id of a rule (its name, or "file:line"; any case)?  For monitor_checks. */
bool ruleset_has_id(const struct ruleset *rs, const char *id);

/* Describe the set for relayguard -n -v: files, rules per stage, prefilter coverage. */
void ruleset_print(const struct ruleset *rs, FILE *fp);

#endif
