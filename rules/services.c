/*
 * services.c - creation and release of the shared back ends (see
 * services.h).
 */
#include "autoconf.h"

#include <string.h>

#include "services.h"

static struct store *
store_create(const struct config *cfg, struct diag *d)
{
	struct store_url url;
	struct store_redis_opts opts = {cfg->store_timeout, false};
	struct store *st;
	char err[160];

	/* config_load validated the key; a failure here is out of memory */
	if (!store_url_parse(cfg->store, &url, err, sizeof(err))) {
		diag_error(d, cfg->path, 0, "store: %s", err);
		return NULL;
	}
	st = url.redis ? store_redis_new(&url, &opts) : store_memory_new((size_t)cfg->store_max_entries);
	if (st == NULL)
		diag_error(d, cfg->path, 0, "store: cannot create the %s store (out of memory%s)",
		    url.redis ? "Redis" : "memory", url.redis ? ", or built without hiredis" : "");
	return st;
}

bool
services_init(struct services *svc, const struct config *cfg, struct diag *d)
{
	memset(svc, 0, sizeof(*svc));
	svc->store = store_create(cfg, d);
	return svc->store != NULL;
}

void
services_free(struct services *svc)
{
	if (svc == NULL)
		return;
	store_free(svc->store);
	memset(svc, 0, sizeof(*svc));
}

long
services_now_ms(const struct services *svc)
{
	return svc != NULL && svc->clock_ms > 0 ? svc->clock_ms : store_now_ms();
}
