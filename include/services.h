/*
 * services.h - long-lived shared back ends (DNS resolver, SPF server,
 * counter store) that outlive configuration snapshots.  Created once at
 * start-up after daemonizing, shared by all threads, each thread-safe.
 * A member is NULL when its back end is not in use.
 */
#ifndef RG_SERVICES_H
#define RG_SERVICES_H

struct services {
	int unused;	/* placeholder until the DNS, SPF and store back ends land */
};

#endif
