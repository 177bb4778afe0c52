/*
 * config.h - relayguard.conf: parsed, validated, immutable once loaded.
 *
 * Syntax: "key = value" lines; "#" starts a comment only at the start of a
 * line (reply texts may hold "#"); a line that starts with white space
 * continues the previous value.  List values are separated by white space
 * or commas; an item that starts with "/", "./" or "../" names a file of
 * one item per line ("#" comments, relative names resolved against the
 * directory of the file that names them).  Unknown keys, repeated keys and
 * bad values are errors, reported as "file:line: problem"; any error loads
 * nothing.
 *
 * The keys, their types, defaults and bounds are one table in config.c
 * (STYLE 10).  A struct config is never modified after config_load returns,
 * so any number of threads may read it.
 */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "cidr.h"
#include "diag.h"
#include "domset.h"
#include "reply.h"
#include "strset.h"

enum run_mode { MODE_ENFORCE = 0, MODE_MONITOR };
enum on_error { ON_ERROR_TEMPFAIL = 0, ON_ERROR_ACCEPT };
enum rdns_mode { RDNS_OFF = 0, RDNS_ANNOTATE, RDNS_PTR, RDNS_FCRDNS };
/* The SMTP stage at which rdns refuses (same order as enum stage in decide.h). */
enum rdns_stage { RDNS_AT_CONNECT = 0, RDNS_AT_HELO, RDNS_AT_MAIL, RDNS_AT_RCPT };
enum spf_mode { SPF_OFF = 0, SPF_ANNOTATE, SPF_ENFORCE };
/* What an SPF softfail or permerror does when spf = enforce. */
enum spf_action { SPF_ACT_ACCEPT = 0, SPF_ACT_TEMPFAIL, SPF_ACT_REJECT };

/* helo_checks members, as a bit mask (config_load fills helo_check_mask). */
#define HELO_CHK_SYNTAX		0x01	/* HELO given, a host name or address literal */
#define HELO_CHK_FQDN		0x02	/* a fully qualified host name */
#define HELO_CHK_OURS		0x04	/* not one of our names or addresses */
#define HELO_CHK_LITERAL	0x08	/* an address literal equals the client address */
#define HELO_CHK_RESOLVES	0x10	/* the name has an address or MX record */
enum store_failure { STORE_FAILURE_ACCEPT = 0, STORE_FAILURE_TEMPFAIL };

/* One "old.example:new.example" pair of the reroute key. */
struct reroute {
	char *from;	/* lowercase, no trailing dot */
	char *to;
};

/* "N/DURATION": LIMIT events per WINDOW_MS (CT_RATE); LIMIT 0 means off. */
struct rate_spec {
	long limit;
	long window_ms;
};

/*
 * One per-client flood limit: its threshold (MAX for counts and sizes,
 * RATE for rates; 0 is off), its reply, and the clients it spares.
 */
struct client_limit {
	long max;
	struct rate_spec rate;
	struct reply_tmpl reply;
	struct cidrset *exempt;	/* NULL (not set): the trusted networks are exempt */
};

/* One per-authenticated-user rate and the users it spares. */
struct user_limit {
	struct rate_spec rate;
	struct reply_tmpl reply;
	struct strset *exempt;
};

/* A file the configuration was read from, as it was when read. */
struct watched {
	char *path;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct config {
	char *path;		/* the file this came from */
	char **text;		/* effective value text of every key, for config_print */
	struct watched *watched; /* every file read (config, list files, rule files) */
	size_t nwatched;

	/* anti-relay */
	struct domset *local_domains;
	struct strset *local_recipients;	/* NULL: not set, every user exists */
	struct domset *always_relay_domains;
	struct cidrset *trusted_networks;
	struct cidrset *never_relay_networks;
	bool relay_authenticated;
	bool mta_resolution_check;		/* also judge {rcpt_addr}, the MTA's own routing */
	struct cidrset *internal_interfaces;
	struct strset *always_accept_recipients; /* local parts or full addresses */
	struct cidrset *our_addresses;		 /* literals that mean "this host" */
	struct reply_tmpl relay_reply;
	struct reply_tmpl route_reply;		 /* encapsulated / routed addresses */
	struct reply_tmpl unknown_user_reply;
	struct reply_tmpl bad_rcpt_reply;	 /* malformed RCPT address */
	struct reply_tmpl bad_sender_reply;	 /* malformed MAIL address */
	struct reroute *reroute;
	size_t n_reroute;

	/* rule files (relayguard.rules(5)) */
	char *rules;			/* the rules key as written: globs or files, NULL: none */
	long rules_match_limit;		/* PCRE2 match limit per match */
	long rules_body_limit;		/* body bytes the body rules look at */
	struct reply_tmpl rules_error_reply; /* a pattern hit its limit: temporary failure */

	/* DNS (dns.h): the resolver is built at start, so the first two need a restart */
	struct strset *dns_resolvers;	/* "resolv.conf", "none" or IP[@port] forwarders */
	char *dns_config;		/* unbound.conf(5) file for libunbound, or NULL (absolute) */
	long dns_timeout;		/* ms: the longest one SMTP command waits for DNS */

	/* reverse DNS of the client (rdns.h) */
	enum rdns_mode rdns;
	enum rdns_stage rdns_stage;
	struct reply_tmpl rdns_temp_reply;	/* always 4xx (RFC 2505 2.9) */
	struct reply_tmpl rdns_none_reply;
	struct reply_tmpl rdns_forged_reply;

	/* HELO/EHLO argument (helo.h) */
	struct strset *helo_checks;
	unsigned helo_check_mask;		/* HELO_CHK_*, derived from helo_checks */
	struct domset *our_hostnames;
	struct reply_tmpl helo_syntax_reply;
	struct reply_tmpl helo_fqdn_reply;
	struct reply_tmpl helo_ours_reply;
	struct reply_tmpl helo_literal_reply;
	struct reply_tmpl helo_resolves_reply;
	struct reply_tmpl helo_temp_reply;	/* always 4xx */

	/* MAIL FROM domain (sender_domain.h) */
	bool sender_domain_check;
	struct reply_tmpl sender_domain_temp_reply;	/* always 4xx */
	struct reply_tmpl sender_domain_none_reply;
	struct reply_tmpl sender_domain_nullmx_reply;

	/* SPF (spf.h) and the Authentication-Results header (authres.h) */
	enum spf_mode spf;
	struct reply_tmpl spf_fail_reply;
	enum spf_action spf_softfail_action;
	struct reply_tmpl spf_softfail_reply;
	struct reply_tmpl spf_temperror_reply;		/* always 4xx */
	enum spf_action spf_permerror_action;
	struct reply_tmpl spf_permerror_reply;
	char *authserv_id;		/* NULL: the host name */
	/* connection control (clients.c) */
	struct cidrset *deny_clients;
	struct reply_tmpl deny_clients_reply;
	struct cidrset *allow_clients;		/* NULL: not set, anyone may connect */
	struct reply_tmpl allow_clients_reply;

	/* flood limits (limits.c) */
	long limit_ipv4_prefix;			/* clients are counted per network of this size */
	long limit_ipv6_prefix;
	struct client_limit client_connections;	/* .max concurrent connections */
	struct client_limit client_connection_rate;
	struct client_limit client_message_rate;
	struct client_limit client_recipient_rate;
	struct client_limit client_bad_recipients; /* .rate of 5xx answers to RCPT */
	long client_bad_recipients_penalty;	/* ms of 421 once past it */
	struct client_limit max_recipients;	/* .max recipients per message */
	struct client_limit max_message_size;	/* .max bytes */
	struct user_limit user_message_rate;
	struct user_limit user_recipient_rate;

	/* counter store */
	char *store;			/* "memory" or redis://HOST:PORT/DB */
	long store_max_entries;		/* memory store bound */
	long store_timeout;		/* ms: Redis connect and command timeout */
	enum store_failure store_failure; /* what an unreachable store means */
	struct reply_tmpl store_failure_reply;

	/* hops, loops, auto-replies, turf (DESIGN "Hops and loops", "Turf") */
	long max_hops;			/* Received: headers allowed; 0: no limit */
	struct reply_tmpl hops_reply;
	char *turf_dir;			/* Maildir for turfed mail; NULL: turf = discard */
	long turf_max_size;		/* bytes of one copy; beyond it: quarantine */
	struct strset *turf_senders;	/* addresses and @domains, turfed whole */
	struct strset *blackhole_recipients; /* addresses and @domains, turfed per recipient */
	long loop_max;			/* same sender, recipient, fingerprint; 0: off */
	long loop_window;		/* ms */
	bool block_external_autoreplies; /* RFC 3834 auto-replies from inside to outside */
	char *ndr_copy_to;		/* bare address added to every null-sender message */
	char *loop_header;		/* "Name: value" marker on outward mail; NULL: none */
	struct reply_tmpl loop_reply;	/* inbound mail carrying our marker */
	struct reply_tmpl loop_tempfail_reply; /* a detected loop when there is no turf_dir */
	char *sendmail_path;		/* used by "relayguard turf release" */

	/* safety nets */
	enum run_mode mode;
	bool soft_mode;
	enum on_error on_error;

	/* daemon */
	char *socket;
	char *user;
	char *pidfile;
	long socket_mode;		/* permissions of a unix socket */
	char *socket_group;		/* group of a unix socket (e.g. postfix) */
	char *metrics_listen;		/* [HOST:]PORT of the Prometheus endpoint, NULL: off */
	bool reload_on_change;		/* reload when a file changes on disk */
	struct strset *monitor_checks;	/* checks and rule ids in monitor mode */
};

/*
 * Load PATH.  Returns a new config, or NULL with every problem added to D
 * (warnings may be added on success too).  The caller frees the result
 * with config_free.
 */
struct config *config_load(const char *path, struct diag *d);

/* Accepts NULL. */
void config_free(struct config *cfg);

/* Print the effective configuration (every key, defaults included) to FP. */
void config_print(const struct config *cfg, FILE *fp);

/*
 * Names of the keys whose effective value differs between OLD and CFG, and
 * of the files CFG read that are new or changed since OLD read them
 * (a rule file edited), space-separated.
 */
void config_diff(const struct config *old, const struct config *cfg, char *buf, size_t size);

/* Remember PATH (open as FD) as a file this configuration depends on. */
bool config_watch(struct config *cfg, const char *path, int fd);

/*
 * Has any file CFG was read from changed on disk since (inode, size,
 * mtime)?  If so, name the first one in WHICH.
 */
bool config_changed(const struct config *cfg, char *which, size_t size);

/*
 * Split loop_header ("Name: value") into NAME (NAMESIZE bytes) and *VALUE
 * (pointing into CFG).  False when it is not set or not of that form.
 */
bool config_loop_header(const struct config *cfg, char *name, size_t namesize, const char **value);

/*
 * Resolve a file name NAME found in a file FROM: absolute names are kept,
 * relative ones are taken from the directory of FROM.  Returns a malloc'd
 * string the caller frees, or NULL when out of memory.
 */
char *config_resolve_path(const char *from, const char *name);

#endif
