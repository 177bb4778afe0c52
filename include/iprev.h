/*
 * iprev.h - the client's reverse DNS, looked up asynchronously: the PTR
 * names of the client address and their forward confirmation (RFC 8601
 * 3 "iprev"; LIBRARIES 2 "Forward-confirmed rDNS").
 *
 * The glue starts the lookup at connect (iprev_start never blocks);
 * the PTR answer starts the A (IPv4 client) or AAAA (IPv6 client) lookups
 * of up to IPREV_MAX_NAMES names from the dispatcher thread, so the whole
 * chain usually completes before the client reaches RCPT.  A check that
 * needs the result waits for it with a deadline.
 *
 * Classes:
 *   IPREV_PASS    one of the PTR names resolves back to the client address
 *   IPREV_NONE    no PTR record (NXDOMAIN or NODATA)
 *   IPREV_FORGED  PTR names exist, none resolves back to the client
 *   IPREV_TEMP    the PTR lookup failed temporarily, or no name confirmed
 *                 and at least one forward lookup failed temporarily, or
 *                 the deadline passed
 *
 * Thread-safety: one owner (the session) calls wait and free; callbacks
 * run in the DNS dispatcher thread; a mutex and a reference count keep
 * the two apart.
 */
#ifndef RG_IPREV_H
#define RG_IPREV_H

#include <time.h>

#include "caps.h"
#include "dns.h"
#include "ipaddr.h"

/* PTR names checked at most (RFC 7208 4.6.4 uses the same bound). */
#define IPREV_MAX_NAMES 10

enum iprev_class { IPREV_PASS = 0, IPREV_NONE, IPREV_FORGED, IPREV_TEMP };

struct iprev_result {
	enum iprev_class klass;
	enum dns_status ptr;	/* the PTR lookup alone (rdns = ptr only needs a name) */
	enum dns_why why;	/* for IPREV_TEMP */
	char name[CAP_DOMAIN_LEN + 1];	/* PASS: the confirmed name; FORGED: the first PTR name */
};

struct iprev;

/* Start the lookups for CLIENT.  NULL when out of memory or DNS is NULL. */
struct iprev *iprev_start(struct dns *dns, const struct ipaddr *client);

/*
 * Wait until the result is known or DEADLINE passes (then IPREV_TEMP with
 * DNS_WHY_TIMEOUT; the lookups go on and a later wait may see the final
 * result).  IP NULL: IPREV_TEMP/DNS_WHY_ERROR.
 */
void iprev_wait(struct iprev *ip, const struct timespec *deadline, struct iprev_result *out);

/* Cancel what is still running and drop the owner's reference.  Accepts NULL. */
void iprev_free(struct iprev *ip);

/*
 * The classification, as a pure function (unit-tested): PTR is the PTR
 * answer, FWD[i] the forward answer of PTR name i (N of them).
 */
void iprev_classify(const struct dns_answer *ptr, const struct dns_answer *fwd, size_t n,
    const struct ipaddr *client, struct iprev_result *out);

/* "pass", "none", "forged", "temp". */
const char *iprev_class_name(enum iprev_class c);

/* The RFC 8601 2.7.3 result: pass, fail (forged), permerror (none), temperror. */
const char *iprev_authres_name(enum iprev_class c);

#endif
