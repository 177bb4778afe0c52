/*
 * services.c - creation and release of the shared back ends (see
 * services.h).
 */
#include "autoconf.h"

#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "services.h"
#include "spf.h"
#include "strbuf.h"

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
	if (gethostname(svc->hostname, sizeof(svc->hostname) - 1) != 0 || svc->hostname[0] == '\0')
		str_copy(svc->hostname, sizeof(svc->hostname), "localhost");
	/* The resolver exists even when no check uses DNS yet: a reload may turn one on. */
	if ((svc->dns = dns_new(cfg, d)) == NULL)
		return false;
	if ((svc->spf = spf_server_new(svc->dns, svc->hostname, d, cfg->path)) == NULL ||
	    (svc->store = store_create(cfg, d)) == NULL) {
		services_free(svc);
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
	spf_server_free(svc->spf);
	dns_free(svc->dns);
	memset(svc, 0, sizeof(*svc));
}

long
services_now_ms(const struct services *svc)
{
	return svc != NULL && svc->clock_ms > 0 ? svc->clock_ms : store_now_ms();
}
