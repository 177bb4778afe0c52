/*
 * stats.h - process-wide counters and latency histograms, for the log
 * (SIGUSR1) and the Prometheus endpoint (metrics_listen).
 *
 * Counted: every decision by stage and action (monitor-mode decisions as
 * "would_<action>"), every decision that is not a plain continue by what
 * decided it (a check name or a rule id), reloads, and the latency of DNS
 * lookups and counter-store operations.  All functions are thread-safe;
 * counting costs an atomic increment, plus one short mutex for the
 * per-decider table (refusals only, never on the accept path).
 */
#ifndef RG_STATS_H
#define RG_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"
#include "verdict.h"

enum stats_latency {
	LAT_DNS = 0,	/* one DNS lookup, from start to answer or deadline */
	LAT_STORE,	/* one counter-store operation */
	LAT_COUNT
};

/* Count one decision at STAGE (enum stage of decide.h). */
void stats_decision(int stage, const struct verdict *v);

/* Record one latency sample of SECONDS. */
void stats_latency(enum stats_latency which, double seconds);

/* Count a reload; OK false for a refused one. */
void stats_reload(bool ok, unsigned long generation);

/* Sessions now open (the glue keeps this). */
void stats_sessions(int delta);

/* One line per counter family, for the log: "decisions: rcpt reject=3 ...". */
void stats_log(void (*emit)(const char *line, void *arg), void *arg);

/*
 * Prometheus text exposition format 0.0.4 into a malloc'd buffer (*OUT,
 * *LEN); false when out of memory.  The caller frees *OUT.
 */
bool stats_prometheus(char **out, size_t *len);

/* Forget everything (tests). */
void stats_reset(void);

#endif
