/*
 * services.h - long-lived shared back ends (DNS resolver, SPF server,
 * counter store) that outlive configuration snapshots.
 *
 * Created once after daemonizing (libunbound and libspf2 keep threads and
 * sockets that a fork would lose), shared by all sessions, each member
 * thread-safe.  The what-if mode creates them too, so a what-if run sees
 * the same DNS answers and counters as the daemon would.  A member is NULL
 * when its back end is not configured.
 *
 * They are built from the configuration loaded at start: dns_resolvers
 * and dns_config take effect at the next restart, not at a reload.
 * The back ends are chosen at start-up: a reload that changes the store
 * keeps the running one (the glue says so in the log).
 */
#ifndef RG_SERVICES_H
#define RG_SERVICES_H

#include "caps.h"
#include "config.h"
#include "diag.h"
#include "store.h"

struct dns;
struct spf_server;

struct services {
	struct store *store;	/* counter store (store = memory | redis://...) */
	struct dns *dns;		/* the shared resolver (dns.h) */
	struct spf_server *spf;		/* libspf2 on that resolver (spf.h) */
	char hostname[CAP_DOMAIN_LEN + 1]; /* gethostname(): default authserv_id, our name */
	long clock_ms;		/* what-if: a virtual clock in ms (> 0); 0: the real clock */
};

/* Create the back ends CFG asks for; false with D filled on failure. */
bool services_init(struct services *svc, const struct config *cfg, struct diag *d);

/* Release them; accepts a zeroed struct. */
void services_free(struct services *svc);

/*
 * The time counters are kept in: the monotonic clock in ms, or the
 * what-if's virtual clock.  (A Redis store shared by several hosts uses
 * the Redis server's clock for rates instead; see store_redis_new.)
 */
long services_now_ms(const struct services *svc);

#endif
