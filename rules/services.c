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

bool
services_init(struct services *svc, const struct config *cfg, struct diag *d)
{
	memset(svc, 0, sizeof(*svc));
	if (gethostname(svc->hostname, sizeof(svc->hostname) - 1) != 0 || svc->hostname[0] == '\0')
		str_copy(svc->hostname, sizeof(svc->hostname), "localhost");
	/* The resolver exists even when no check uses DNS yet: a reload may turn one on. */
	if ((svc->dns = dns_new(cfg, d)) == NULL)
		return false;
	if ((svc->spf = spf_server_new(svc->dns, svc->hostname, d, cfg->path)) == NULL) {
		services_free(svc);
		return false;
	}
	if (strcmp(cfg->store, "memory") == 0) {
		svc->store = store_memory_new((size_t)cfg->store_max_entries);
	} else {
		diag_error(d, cfg->path, 0, "store: unsupported back end \"%s\"", cfg->store);
		services_free(svc);
		return false;
	}
	if (svc->store == NULL) {
		diag_error(d, cfg->path, 0, "store: out of memory");
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
	spf_server_free(svc->spf);
	dns_free(svc->dns);
	store_free(svc->store);
	memset(svc, 0, sizeof(*svc));
}
