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

#include "snapshot.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;
static unsigned long generation;

struct snapshot *
snapshot_load(const char *path, struct diag *d)
{
	struct snapshot *snap;
	struct config *cfg = config_load(path, d);

	if (cfg == NULL)
		return NULL;
	if ((snap = calloc(1, sizeof(*snap))) == NULL) {
		diag_error(d, path, 0, "out of memory");
		config_free(cfg);
		return NULL;
	}
	snap->cfg = cfg;
	/* Annotating means removing forged Authentication-Results: that needs the header (authres.h). */
	if (cfg->rdns != RDNS_OFF || cfg->spf != SPF_OFF)
		snap->needs |= NEED_HEADERS;
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
