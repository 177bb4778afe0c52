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
	(void)cfg;
	(void)d;
	memset(svc, 0, sizeof(*svc));
	return true;
}

void
services_free(struct services *svc)
{
	if (svc == NULL)
		return;
	memset(svc, 0, sizeof(*svc));
}
