/*
 * snapshot.h - one immutable, reference-counted policy: the configuration
 * and everything compiled from it.
 *
 * Reload builds a whole new snapshot; if anything fails the old one keeps
 * running (DESIGN "Reload is all or nothing").  Each SMTP connection holds
 * a reference to the snapshot it started with, so a reload never changes
 * the rules in the middle of a session, and an old snapshot is freed when
 * its last connection closes.  snapshot_ref/unref and the current-pointer
 * functions are thread-safe.
 */
#ifndef RG_SNAPSHOT_H
#define RG_SNAPSHOT_H

#include <stdatomic.h>

#include "config.h"
#include "diag.h"

/* What a snapshot needs from the MTA beyond the envelope (for milter negotiation). */
#define NEED_HEADERS	0x01	/* header callbacks (hop count, header rules, auto-reply detection) */
#define NEED_BODY	0x02	/* body chunks (body rules, turf copies, fingerprints, max_message_size) */
/*
 * Something (a rule) may turf a message after its headers have started:
 * keep every message as it streams (in memory, then in turf_dir/tmp) until
 * eom, so that the copy can be written.  Without it such a late turf finds
 * no copy and the message is quarantined instead.  Only with turf_dir.
 */
#define NEED_TURF_COPY	0x04
#define NEED_REJECTED_RCPTS 0x08 /* recipients the MTA refused itself (client_bad_recipients) */

struct ruleset;

struct snapshot {
	struct config *cfg;
	struct ruleset *rules;		/* the rule files (ruleset.h), never NULL once loaded */
	unsigned needs;			/* NEED_* */
	unsigned long generation;	/* 1 for the first load, +1 per reload */
	atomic_int refs;		/* use snapshot_ref/unref */
};

/* Load the configuration at PATH and everything it names; NULL with D filled on error. */
struct snapshot *snapshot_load(const char *path, struct diag *d);

struct snapshot *snapshot_ref(struct snapshot *snap);	/* returns SNAP */
void snapshot_unref(struct snapshot *snap);		/* accepts NULL */

/* Make SNAP current, taking over the caller's reference. */
void snapshot_install(struct snapshot *snap);

/* A new reference to the current snapshot (NULL before the first install). */
struct snapshot *snapshot_current(void);

#endif
