/*
 * snapshot.c - reference-counted policy snapshots (see snapshot.h).
 *
 * The current pointer is guarded by a mutex held only for the pointer
 * swap and the reference increment, so a reload never blocks sessions for
 * longer than that.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "loops.h"
#include "ruleset.h"
#include "snapshot.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;
static unsigned long generation;

struct monitor_check_ctx {
	const char *path;
	struct diag *d;
	const struct ruleset *rules;
};

/* Every monitor_checks item must name a check (or, once rules exist, a rule). */
static void
monitor_item_known(const char *name, void *arg)
{
	struct monitor_check_ctx *c = arg;
	enum check_id id;

	if (!check_by_name(name, &id) && !ruleset_has_id(c->rules, name))
		diag_error(c->d, c->path, 0, "monitor_checks: no check or rule named \"%s\"", name);
}

struct snapshot *
snapshot_load(const char *path, struct diag *d)
{
	struct snapshot *snap;
	struct config *cfg = config_load(path, d);
	struct ruleset *rules;
	struct monitor_check_ctx mc = {path, d, NULL};
	unsigned before = d->errors;

	if (cfg == NULL)
		return NULL;
	/* Rules are compiled (and JIT-compiled) here, before the snapshot is published. */
	if ((rules = ruleset_load(cfg, d)) == NULL) {
		config_free(cfg);
		return NULL;
	}
	mc.rules = rules;
	strset_foreach(cfg->monitor_checks, monitor_item_known, &mc);
	if (d->errors != before) {
		ruleset_free(rules);
		config_free(cfg);
		return NULL;
	}
	if ((snap = calloc(1, sizeof(*snap))) == NULL) {
		diag_error(d, path, 0, "out of memory");
		ruleset_free(rules);
		config_free(cfg);
		return NULL;
	}
	snap->cfg = cfg;
	snap->needs = loops_needs(cfg);
	/* Annotating means removing forged Authentication-Results: that needs the header (authres.h). */
	if (cfg->rdns != RDNS_OFF || cfg->spf != SPF_OFF)
		snap->needs |= NEED_HEADERS;
	/* max_message_size counts header and body bytes; client_bad_recipients
	 * counts the recipients the MTA refuses before we see them too */
	if (cfg->max_message_size.max > 0)
		snap->needs |= NEED_HEADERS | NEED_BODY;
	if (cfg->client_bad_recipients.rate.limit > 0)
		snap->needs |= NEED_REJECTED_RCPTS;
	snap->rules = rules;
	snap->needs |= ruleset_needs(rules);
	if (cfg->turf_dir == NULL)
		snap->needs &= ~NEED_TURF_COPY; /* no copy is kept anyway */
	atomic_init(&snap->refs, 1);
	return snap;
}

struct snapshot *
snapshot_ref(struct snapshot *snap)
{
	if (snap != NULL)
		atomic_fetch_add(&snap->refs, 1);
	return snap;
}

void
snapshot_unref(struct snapshot *snap)
{
	if (snap == NULL || atomic_fetch_sub(&snap->refs, 1) != 1)
		return;
	ruleset_free(snap->rules);
	config_free(snap->cfg);
	free(snap);
}

void
snapshot_install(struct snapshot *snap)
{
	struct snapshot *old;

	pthread_mutex_lock(&current_lock);
	snap->generation = ++generation;
	old = current;
	current = snap;
	pthread_mutex_unlock(&current_lock);
	snapshot_unref(old);
}

struct snapshot *
snapshot_current(void)
{
	struct snapshot *snap;

	pthread_mutex_lock(&current_lock);
	snap = snapshot_ref(current);
	pthread_mutex_unlock(&current_lock);
	return snap;
}
