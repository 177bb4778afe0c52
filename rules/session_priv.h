/*
 * session_priv.h - the inside of struct session, for the core's own
 * modules only.  The glue and the what-if mode see the opaque
 * type of include/session.h.
 */
#ifndef RG_SESSION_PRIV_H
#define RG_SESSION_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "caps.h"
#include "changes.h"
#include "decide.h"
#include "iprev.h"
#include "ipaddr.h"
#include "sender_domain.h"
#include "session.h"
#include "spf.h"
#include "turf.h"
#include "verdict.h"

struct macro {
	char name[32];
	char *value;
};

/* One recipient accepted in the current message. */
struct rcpt_entry {
	char *raw;	/* exactly as the MTA passed it (needed for smfi_delrcpt) */
	unsigned flags;
	char *why;	/* RCPT_TURF, RCPT_DROP: "by: detail" of the decision */
};

#define RCPT_EXEMPT	0x01	/* always_accept_recipients (postmaster) */
#define RCPT_LOCAL	0x02	/* a local destination */
#define RCPT_TURF	0x04	/* removed at eom, a copy kept (never DISCARD at RCPT) */
#define RCPT_DROP	0x08	/* removed at eom without a copy */
#define RCPT_CAND	0x10	/* a check proposes turf; decide.c settles it */

#define WHY_MAX (CAP_DECIDER + CAP_DETAIL + 2)

/*
 * Hops, loops, auto-replies and turf of the current message (loops.c,
 * decide.c).  Nothing here grows with the number of headers: the spool
 * is bounded by turf_max_size and exists only while a copy may be needed.
 */
struct msg_guard {
	unsigned hops;		/* Received: headers, counted up to max_hops + 1 */
	bool in_body;		/* the end of the headers has been seen */
	const char *autoreply;	/* why this is an auto-reply (static text); NULL: it is not */
	bool have_subject;
	bool has_marker;	/* our loop_header is among the headers */
	uint64_t fp;		/* FNV-1a of Subject and the first LOOP_FP_BODY body bytes */
	size_t fp_body;		/* body bytes in fp */
	bool loop_checked;	/* the repeat counters have been consulted */
	bool copy_started;	/* the spool was started at the first header */
	struct turf_spool *spool; /* the message as it streams; NULL when no copy can be needed */
	enum turf_spool_state copy_lost; /* why the spool was given up (SPOOL_OK: it was not) */
	int copy_errno;		/* with SPOOL_FAILED */
	enum action turf_all;	/* ACT_TURF or ACT_DISCARD pending for the whole message */
	char turf_why[WHY_MAX];	/* "by: detail" of turf_all */
	bool have_deferred;	/* a decision made among the headers, answered at eoh */
	struct verdict deferred;
	char turf_id[TURF_ID_MAX + 1]; /* the copy written at eom ("" if none) */
};

struct rulestate;	/* ruleeval.c */

#define SESSION_ALSO_MAX 3	/* further decisions kept per event for what-if (all are logged) */

/* Forged Authentication-Results remembered per message (authres.h says what happens beyond). */
#define CAP_AUTHRES_FORGED 32

struct session {
	struct snapshot *snap;
	const struct config *cfg;
	struct services *svc;
	unsigned long id;		/* connection serial, for logs */

	/* connection facts */
	bool have_client;
	struct ipaddr client;
	char client_addr[IPADDR_TEXT];
	char client_name[CAP_DOMAIN_LEN + 3];
	bool have_helo;
	char helo[CAP_HELO_LEN + 1];
	struct macro macros[CAP_MACROS];
	size_t nmacros;
	unsigned long skip;		/* 1 << enum check_id: checks exempted for this session
					 * (kept by ruleeval: the union of OK and SKIP scopes) */
	struct rulestate *rules;	/* what rules decided per scope; NULL until a rule runs */
	bool rule_relay;		/* a RELAY rule lets this client or recipient relay */

	/* identity checks (iprev.h, rdns.h, helo.h) */
	struct timespec dns_deadline;	/* DNS bound of the command being decided (dns_timeout) */
	struct iprev *iprev;		/* PTR + forward lookups, started at connect */
	bool rdns_known;		/* rdns is final (not a timeout) */
	struct iprev_result rdns;
	char helo_checked[CAP_HELO_LEN + 1]; /* the HELO helo_dns belongs to */
	bool helo_dns_known;
	enum dns_status helo_dns;	/* does the HELO name resolve (helo_checks resolves) */
	enum dns_why helo_dns_why;

	/* current message */
	bool have_sender;
	char sender[CAP_ADDR_LEN + 1];	/* the path as typed, printable form for logs */
	struct addr sender_addr;
	struct rcpt_entry *rcpts;
	size_t nrcpts, caprcpts;
	struct changes changes;
	bool spf_done;			/* spf holds this message's outcome (spf.h) */
	struct spf_outcome spf;
	enum sender_domain_class sender_domain;	/* SD_UNKNOWN until checked */
	enum dns_why sender_domain_why;
	unsigned n_authres;		/* Authentication-Results headers so far (authres.h) */
	unsigned n_forged;		/* of those, claiming our authserv-id */
	unsigned forged[CAP_AUTHRES_FORGED];	/* their 1-based indexes among the A-R headers */
	struct msg_guard mg;

	/* flood limits (limits.c) */
	char client_key[IPADDR_TEXT + 8]; /* the client's counting group ("192.0.2.1", "2001:db8::/64"); "" until needed */
	bool conn_counted;		/* counted in the concurrency gauge: decide_close takes it off */
	unsigned long msg_bytes;	/* header and body bytes of the current message */
	char counters[CAP_COUNTERS];	/* counters the current decision used, one per line */

	/* the command being decided */
	enum stage stage;
	char *const *cur_args;		/* ESMTP parameters of MAIL/RCPT (valid during the call, may be NULL) */
	const char *cur_rcpt;		/* RCPT argument (valid during decide_rcpt) */
	struct addr cur_rcpt_addr;
	unsigned cur_rcpt_flags;	/* RCPT_* so far */
	char cur_rcpt_why[WHY_MAX];	/* with RCPT_TURF or RCPT_DROP */
	const char *cur_hdr_name;	/* the header being decided (valid during decide_header) */
	const char *cur_hdr_value;

	const unsigned char *cur_body;	/* during decide_body */
	size_t cur_body_len;

	/* further decisions of the current event (decide_also), for the what-if mode */
	struct verdict also[SESSION_ALSO_MAX];
	size_t nalso;

	unsigned glue_flags;		/* SESSION_* of session.h, the glue's */
};

/* May this client relay (trusted minus never-relay, authenticated, internal interface, a RELAY rule)? */
bool session_may_relay(const struct session *s);

/* Single facts behind session_may_relay. */
bool session_is_trusted(const struct session *s);
bool session_is_authenticated(const struct session *s);
bool session_is_internal(const struct session *s);

/*
 * Inside our trust boundary for the identity checks (rdns, helo, spf)
 * and the Authentication-Results rules: a trusted network, an
 * authenticated client or an internal interface.
 */
bool session_identity_exempt(const struct session *s);

/* Our authserv-id (RFC 8601 2.5): authserv_id, or the host name. */
const char *session_authserv_id(const struct session *s);

/*
 * The local address the client connected to, if the MTA said: {if_addr},
 * else {daemon_addr}; an unspecified address (0.0.0.0, ::) says nothing.
 */
bool session_daemon_addr(const struct session *s, struct ipaddr *out);

/* Is DOMAIN (lowercase) one of ours: a local domain? */
bool session_domain_is_local(const struct session *s, const char *domain);

/* Is the literal IP one of this host's addresses? */
bool session_literal_is_ours(const struct session *s, const struct ipaddr *ip);

/*
 * Fill V with a refusal from template T, expanded for this session.  The
 * action follows the code's class (5xx REJECT, 4xx TEMPFAIL).  BY names
 * the decider; DETAIL (printf format, may be NULL) adds facts for the log.
 */
void session_refuse(struct session *s, struct verdict *v, const struct reply_tmpl *t,
    const char *by, const char *detail, ...) __attribute__((format(printf, 5, 6)));

/*
 * Expand the %{name} references of TEXT (a reply-like text, see reply.h)
 * for this session into OUT; values from the client are made printable.
 */
void session_expand(struct session *s, const char *text, char *out, size_t size);

/*
 * A check that passed adds "CHECK: what it saw" to V's detail (what-if
 * shows it), as long as nothing has decided V yet.
 */
void session_note_pass(struct verdict *v, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set V's decider and detail without changing its action. */
void session_note(struct verdict *v, const char *by, const char *detail, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a header change / recipient change to the current message; false when out of memory. */
bool session_add_header(struct session *s, enum hdr_op op, const char *name, const char *value,
    int index);
bool session_add_rcpt_change(struct session *s, enum rcpt_op op, const char *addr);

/* Remember the accepted current recipient; false when out of memory. */
bool session_keep_rcpt(struct session *s);

/*
 * Forget the current message (sender, recipients, changes).  The queue id
 * macro "i" is kept: at MAIL it is the new message's (Sendmail sends it
 * with MAIL); decide_abort drops it.
 */
void session_reset_message(struct session *s);

/* Ask the MTA to hold the message with REASON; false when out of memory. */
bool session_set_quarantine(struct session *s, const char *reason);

/*
 * Is the decision of BY (a check or rule name) in monitor mode (mode =
 * monitor, or monitor_checks names it)?
 */
bool session_monitored(const struct session *s, const char *by);
/* Add one line to the counters the current decision used (what-if shows them). */
void session_counter(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
