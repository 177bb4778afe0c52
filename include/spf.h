/*
 * spf.h - SPF (RFC 7208) through libspf2, with its DNS going through the
 * shared libunbound resolver (dns.h), and the SPF check at RCPT.
 *
 * Why a DNS layer of our own (LIBRARIES 3): libspf2's resolver layer uses
 * res_nquery with resolv.conf timeouts (up to 10 s per query), its lookup
 * limits restart at every include and lack the void-lookup limit, and its
 * record fetch asks for type SPF first and turns a temporary error into an
 * "invalid" result.  libspf2 lets a caller plug in a DNS layer
 * (SPF_dns_server_t: lookup and get_spf hooks), so relayguard keeps
 * libspf2's record parser, macro expansion and mechanism evaluation and
 * supplies:
 *   - every query through libunbound, under one deadline per evaluation;
 *   - the record fetch of RFC 7208 4.5 (TXT only, exactly one "v=spf1"
 *     record, NXDOMAIN/no record = none, a temporary error = temperror);
 *   - the limits of RFC 7208 4.6.4 counted over the whole evaluation,
 *     includes and redirects included: 10 DNS-querying terms, 2 void
 *     lookups (exceeding either is a permerror), PTR answers cut to 10;
 *   - RFC 7208 4.3: a malformed or single-label domain is "none".
 * The evaluation runs synchronously in the calling thread; the budget of
 * the evaluation in progress is thread-local for its duration only (the
 * hooks get no request pointer), which is safe under libmilter's worker
 * pool because one evaluation never spans two callbacks.
 *
 * libspf2 gives 127.0.0.0/8 and ::1 a "pass" in its entry point
 * SPF_request_query_mailfrom; relayguard calls SPF_record_interpret
 * itself, so loopback clients are evaluated like any other address.
 * IPv4-mapped IPv6 clients are already IPv4 (ipaddr.h).
 *
 * Thread-safety: one spf_server is shared by all threads; it is fully
 * configured in spf_server_new and never changed afterwards.
 */
#ifndef RG_SPF_H
#define RG_SPF_H

#include <stddef.h>
#include <time.h>

#include "caps.h"
#include "check.h"
#include "diag.h"
#include "ipaddr.h"

struct dns;
struct spf_server;

/* RFC 7208 2.6 results. */
enum spf_result {
	SPF_R_NONE = 0,
	SPF_R_NEUTRAL,
	SPF_R_PASS,
	SPF_R_FAIL,
	SPF_R_SOFTFAIL,
	SPF_R_TEMPERROR,
	SPF_R_PERMERROR,
};

/* RFC 7208 4.6.4 limits. */
#define SPF_MAX_TERMS	10	/* mechanisms and modifiers that query DNS */
#define SPF_MAX_VOIDS	2	/* of those, lookups answered NXDOMAIN or NODATA */
#define SPF_MAX_QUERIES	150	/* every query of one evaluation: a safety net */

struct spf_outcome {
	enum spf_result result;
	bool helo_identity;		/* the HELO identity was checked (null sender) */
	char domain[CAP_DOMAIN_LEN + 1];	/* the checked domain; "" if there was none */
	char explanation[CAP_REPLY_TEXT];	/* fail, softfail: RFC 7208 6.2 text, as published */
	char problem[160];		/* none/temperror/permerror: why, for logs and headers */
	unsigned terms, voids, queries;	/* DNS use of the evaluation */
};

/*
 * Create the shared server on DNS.  RECEIVER is our host name (the %{r}
 * macro).  NULL with D filled (file CFGPATH) when out of memory.
 */
struct spf_server *spf_server_new(struct dns *dns, const char *receiver, struct diag *d,
    const char *cfgpath);

/* Accepts NULL. */
void spf_server_free(struct spf_server *srv);

/*
 * check_host() of RFC 7208 4 for CLIENT: the MAIL FROM identity SENDER
 * ("local@domain"; "" for the null sender, then the HELO identity, RFC
 * 7208 2.3), HELO (NULL when none was given).  DNS waits end at DEADLINE
 * (then temperror).  Never fails: out of memory is a temperror.
 */
void spf_evaluate(struct spf_server *srv, const struct ipaddr *client, const char *helo,
    const char *sender, const struct timespec *deadline, struct spf_outcome *out);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spf_result_name(enum spf_result r);

/*
 * The Received-SPF field value of RFC 7208 9.1 for O, on one line (the
 * caller folds it).  RECEIVER is the authserv-id; the other arguments are
 * the session's facts (NULL when unknown); untrusted text is quoted or
 * cut to printable characters.
 */
void spf_received_value(const struct spf_outcome *o, const char *receiver,
    const char *client_addr, const char *helo, const char *sender, char *buf, size_t size);

/* ---- the check (session side) ---- */

struct session;
struct verdict;

/*
 * The SPF outcome of the session's current message, evaluated on first
 * use with the current command's DNS deadline and kept until the message
 * ends.  NULL when SPF does not apply: spf = off, no client address, or a
 * client inside our trust boundary (trusted network, authenticated,
 * internal interface: their mail is not what SPF is about, and a roaming
 * user's address is in no one's SPF record).
 */
const struct spf_outcome *spf_session(struct session *s);

/* RCPT check (spf = enforce): fail, temperror and the configured actions refuse. */
enum check_res spf_check(struct session *s, struct verdict *v);

#endif
