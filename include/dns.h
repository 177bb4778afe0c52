/*
 * dns.h - the one shared DNS resolver: a libunbound context with its cache,
 * and the answers it gives.
 *
 * Every lookup ends in one of four states and callers keep them apart
 * (STYLE 3; DESIGN "A temporary failure never becomes a 5xx"):
 *
 *   DNS_OK        records found
 *   DNS_NODATA    the name exists but has no records of the type
 *   DNS_NXDOMAIN  the name does not exist
 *   DNS_TEMP      SERVFAIL, REFUSED, a DNSSEC-bogus answer, a network or
 *                 library error, or our own deadline: try again later
 *
 * libunbound has no per-query timeout (LIBRARIES 2), so every wait here
 * takes an absolute deadline (CLOCK_MONOTONIC).  The context runs in
 * libunbound's threaded mode (ub_ctx_async(ctx, 1), never a forked
 * process) and one dispatcher thread of ours reads its answers
 * (ub_fd/ub_process) and runs the completion callbacks.  A waiter that
 * reaches its deadline cancels its query (ub_cancel); query objects are
 * reference-counted because a cancel can lose the race with an answer that
 * is already being delivered.
 *
 * Thread-safety: every function may be called from any thread at any time
 * between dns_new and dns_free.  Callbacks of dns_submit run in the
 * dispatcher thread, one at a time: they must not block, and may submit
 * further queries.
 */
#ifndef RG_DNS_H
#define RG_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "ipaddr.h"

/* Record types we ask for (RFC 1035 3.2.2, RFC 3596). */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

enum dns_status { DNS_OK = 0, DNS_NODATA, DNS_NXDOMAIN, DNS_TEMP };

/* Why an answer is DNS_TEMP (or, for DNS_WHY_BADNAME, why it was never asked). */
enum dns_why {
	DNS_WHY_NONE = 0,
	DNS_WHY_SERVFAIL,	/* SERVFAIL or REFUSED from the resolver */
	DNS_WHY_BOGUS,		/* DNSSEC validation failed */
	DNS_WHY_TIMEOUT,	/* our deadline passed first */
	DNS_WHY_ERROR,		/* libunbound or network error, out of memory */
	DNS_WHY_BADNAME,	/* not a name we send to the resolver (status NXDOMAIN) */
};

/* One record.  Which fields are set depends on the type of the answer. */
struct dns_rr {
	unsigned pref;		/* MX preference */
	struct ipaddr ip;	/* A, AAAA */
	char *text;		/* PTR, MX: the name, lowercase, no trailing dot ("" for the
				 * root, as in a null MX, RFC 7505); TXT: the character
				 * strings concatenated (RFC 7208 3.3), NUL-terminated */
	size_t len;		/* bytes in text, without the NUL (TXT may hold NUL bytes) */
};

struct dns_answer {
	enum dns_status status;
	enum dns_why why;	/* for DNS_TEMP */
	int type;
	unsigned ttl;
	size_t n;		/* records in rr (0 unless DNS_OK) */
	struct dns_rr *rr;
};

struct dns;
struct dnscache;

/*
 * Create the resolver from CFG: dns_config (an unbound.conf(5) file loaded
 * first), then the forwarders of dns_resolvers ("resolv.conf": the
 * system's; "none": none of ours; else the listed addresses).  Private and
 * documentation reverse zones are not answered locally (unblock-lan-zones)
 * because a forwarder knows the site's own zones.  Starts the dispatcher
 * thread with every signal blocked.  NULL with D filled on failure.
 */
struct dns *dns_new(const struct config *cfg, struct diag *d);

/* Stop the dispatcher, cancel outstanding queries, drop the cache.  Accepts NULL. */
void dns_free(struct dns *dns);

/*
 * Look NAME up (TYPE: DNS_T_*), waiting at most until DEADLINE.  *OUT is
 * always filled (DNS_TEMP/DNS_WHY_TIMEOUT when the deadline passed,
 * DNS_NXDOMAIN/DNS_WHY_BADNAME when NAME is not a name: see dns_name_ok);
 * free its records with dns_answer_clear.  DNS NULL: DNS_TEMP.
 */
void dns_lookup(struct dns *dns, const char *name, int type, const struct timespec *deadline,
    struct dns_answer *out);

/* Free the records of A and reset it to an empty DNS_TEMP answer. */
void dns_answer_clear(struct dns_answer *a);

/* ---- asynchronous primitive (for iprev.c and the like) ---- */

/*
 * Called once per submitted query, in the dispatcher thread, unless the
 * query was cancelled successfully.  The callee owns *A's records (free
 * them with dns_answer_clear).
 */
typedef void (*dns_done_fn)(void *arg, struct dns_answer *a);

/*
 * One submitted query.  The caller owns the memory (usually inside its own
 * object) and keeps it valid until DONE has run or dns_cancel returned
 * true.
 */
struct dns_sub {
	dns_done_fn done;	/* set by the caller */
	void *arg;		/* set by the caller */
	int type;		/* set by dns_submit */
	int id;			/* set by dns_submit: libunbound's query id */
	char *qname;		/* set by dns_submit: the name, for the answer cache */
	struct dnscache *cache;	/* set by dns_submit */
};

/*
 * Start a lookup of NAME; SUB->done(SUB->arg, answer) follows.  False if
 * it could not be started (bad name, out of memory, library error): then
 * DONE is never called.
 */
bool dns_submit(struct dns *dns, const char *name, int type, struct dns_sub *sub);

/*
 * Cancel SUB.  True: DONE will not be called.  False: DONE has run or is
 * about to run (keep SUB and its ARG alive until it has).
 */
bool dns_cancel(struct dns *dns, struct dns_sub *sub);

/*
 * The answer to NAME/TYPE if the answer cache (dnscache.h) holds one: true
 * and *OUT filled (free with dns_answer_clear), without waiting and without
 * leaving the calling thread.  False otherwise, *OUT untouched.  Every
 * answer libunbound gives through dns_lookup or dns_submit goes into the
 * cache, and dns_lookup looks there first.
 */
bool dns_cached(struct dns *dns, const char *name, int type, struct dns_answer *out);

/* ---- pure helpers (unit-tested) ---- */

/*
 * Classify a libunbound result: ERR (ub_resolve's error code), RCODE,
 * HAVEDATA, NXDOMAIN, BOGUS.  *WHY is set for DNS_TEMP.
 */
enum dns_status dns_classify(int err, int rcode, bool havedata, bool nxdomain, bool bogus,
    enum dns_why *why);

/*
 * Is NAME something we may send to the resolver?  At most 253 bytes
 * without a trailing dot, labels of 1-63 bytes, no control characters.
 * Other bytes are allowed (names from SPF macros hold all kinds); they are
 * escaped before libunbound sees them, so remote input never reaches its
 * escape syntax.
 */
bool dns_name_ok(const char *name);

/*
 * Fill *OUT's records from the rdata of one answer of TYPE: DATA[i] of
 * LEN[i] bytes, N of them (libunbound's ub_result layout).  Malformed
 * records are skipped.  False when out of memory.
 */
bool dns_parse_rdata(int type, char *const *data, const int *len, size_t n, struct dns_answer *out);

/* "ok", "nodata", "nxdomain", "temp". */
const char *dns_status_name(enum dns_status st);

/* "servfail", "bogus", "timeout", "error", "bad name", "" for none. */
const char *dns_why_name(enum dns_why why);

/* An absolute CLOCK_MONOTONIC deadline MS milliseconds from now. */
void dns_deadline_in(long ms, struct timespec *out);

#endif
