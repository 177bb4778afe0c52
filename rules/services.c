/*
 * services.c - creation and release of the shared back ends (see
 * services.h).
 */
#include "autoconf.h"

#include <string.h>

#include "services.h"

bool
services_init(struct services *svc, const struct config *cfg, struct diag *d)
{
	memset(svc, 0, sizeof(*svc));
	if (strcmp(cfg->store, "memory") == 0) {
		svc->store = store_memory_new((size_t)cfg->store_max_entries);
	} else {
		diag_error(d, cfg->path, 0, "store: unsupported back end \"%s\"", cfg->store);
		return false;
	}
	if (svc->store == NULL) {
		diag_error(d, cfg->path, 0, "store: out of memory");
		return false;
	}
	return true;
}

void
services_free(struct services *svc)
{
	if (svc == NULL)
		return;
	store_free(svc->store);
	memset(svc, 0, sizeof(*svc));
}
