/*
 * config.c - relayguard.conf parser (see config.h).
 *
 * The key table below is the whole configuration language: name, type,
 * default, bounds and the struct config field.  Defaults go through the
 * same value parsers as the file, so a default can never be something the
 * file could not say.  The parser never logs; every problem becomes a
 * "file:line: problem" diagnostic and any error frees everything.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "addr.h"
#include "caps.h"
#include "config.h"
#include "fsafe.h"
#include "store.h"
#include "strbuf.h"

enum ctype {
	CT_BOOL,
	CT_INT,
	CT_DURATION,	/* stored as long milliseconds; suffix ms, s, m, h, d (default s) */
	CT_SIZE,	/* stored as long bytes; suffix k, m, g (powers of 1024) */
	CT_STRING,
	CT_ENUM,	/* stored as int: index into enums */
	CT_CIDRS,
	CT_DOMAINS,
	CT_STRINGS,
	CT_REPLY,
	CT_REROUTE,
	CT_OCTAL,	/* stored as long; file permissions such as 0660 */
	CT_RATE,	/* struct rate_spec: "N/DURATION" (N events per sliding window), or off */
};

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	const char *def;	  /* NULL: unset */
	long min, max;		  /* CT_INT, CT_DURATION, CT_SIZE */
	const char *const *enums; /* CT_ENUM */
	char klass;		  /* CT_REPLY: '4', '5' or 0 */
};

static const char *const mode_names[] = {"enforce", "monitor", NULL};
static const char *const on_error_names[] = {"tempfail", "accept", NULL};
static const char *const rdns_names[] = {"off", "annotate", "ptr", "fcrdns", NULL};
static const char *const rdns_stage_names[] = {"connect", "helo", "mail", "rcpt", NULL};
static const char *const spf_names[] = {"off", "annotate", "enforce", NULL};
static const char *const spf_action_names[] = {"accept", "tempfail", "reject", NULL};
static const char *const store_failure_names[] = {"accept", "tempfail", NULL};

#define F(field) offsetof(struct config, field)

/* The keys of one per-client limit: NAME (threshold), NAME_reply, NAME_exempt. */
#define CLIENT_LIMIT(name, type, member, def, hi, text, cls)                                     \
	{#name, type, F(name.member), def, 0, hi, NULL, 0},                                      \
	    {#name "_reply", CT_REPLY, F(name.reply), text, 0, 0, NULL, cls},                    \
	    {#name "_exempt", CT_CIDRS, F(name.exempt), NULL, 0, 0, NULL, 0}
#define USER_LIMIT(name, text)                                                                   \
	{#name, CT_RATE, F(name.rate), "off", 0, 0, NULL, 0},                                    \
	    {#name "_reply", CT_REPLY, F(name.reply), text, 0, 0, NULL, '4'},                    \
	    {#name "_exempt", CT_STRINGS, F(name.exempt), "", 0, 0, NULL, 0}

static const struct ckey keys[] = {
	/* anti-relay */
	{"local_domains", CT_DOMAINS, F(local_domains), "", 0, 0, NULL, 0},
	{"local_recipients", CT_STRINGS, F(local_recipients), NULL, 0, 0, NULL, 0},
	{"always_relay_domains", CT_DOMAINS, F(always_relay_domains), "", 0, 0, NULL, 0},
	{"trusted_networks", CT_CIDRS, F(trusted_networks), "127.0.0.0/8 ::1/128", 0, 0, NULL, 0},
	{"never_relay_networks", CT_CIDRS, F(never_relay_networks), "", 0, 0, NULL, 0},
	{"relay_authenticated", CT_BOOL, F(relay_authenticated), "yes", 0, 0, NULL, 0},
	{"mta_resolution_check", CT_BOOL, F(mta_resolution_check), "yes", 0, 0, NULL, 0},
	{"internal_interfaces", CT_CIDRS, F(internal_interfaces), "", 0, 0, NULL, 0},
	{"always_accept_recipients", CT_STRINGS, F(always_accept_recipients), "postmaster", 0, 0,
	    NULL, 0},
	{"our_addresses", CT_CIDRS, F(our_addresses), "", 0, 0, NULL, 0},
	{"relay_reply", CT_REPLY, F(relay_reply), "550 5.7.1 Relaying denied", 0, 0, NULL, 0},
	{"route_reply", CT_REPLY, F(route_reply),
	    "550 5.7.1 Source routes and encapsulated addresses are not accepted", 0, 0, NULL, 0},
	{"unknown_user_reply", CT_REPLY, F(unknown_user_reply),
	    "550 5.1.1 Recipient address rejected: user unknown", 0, 0, NULL, '5'},
	{"bad_rcpt_reply", CT_REPLY, F(bad_rcpt_reply), "501 5.1.3 Bad recipient address syntax",
	    0, 0, NULL, 0},
	{"bad_sender_reply", CT_REPLY, F(bad_sender_reply), "501 5.1.7 Bad sender address syntax",
	    0, 0, NULL, 0},
	{"reroute", CT_REROUTE, F(reroute), "", 0, 0, NULL, 0},
	/* rule files */
	{"rules", CT_STRING, F(rules), NULL, 0, 0, NULL, 0},
	{"rules_match_limit", CT_INT, F(rules_match_limit), "100000", 1000, 100000000, NULL, 0},
	{"rules_body_limit", CT_SIZE, F(rules_body_limit), "64k", 0, 1073741824, NULL, 0},
	{"rules_error_reply", CT_REPLY, F(rules_error_reply),
	    "451 4.3.0 Temporary local problem, please try again later", 0, 0, NULL, '4'},
	/* DNS */
	{"dns_resolvers", CT_STRINGS, F(dns_resolvers), "resolv.conf", 0, 0, NULL, 0},
	{"dns_config", CT_STRING, F(dns_config), NULL, 0, 0, NULL, 0},
	{"dns_timeout", CT_DURATION, F(dns_timeout), "5s", 100, 60000, NULL, 0},
	/* reverse DNS (RFC 7372 5.7.25; a temporary failure is never a 5xx, RFC 2505 2.9) */
	{"rdns", CT_ENUM, F(rdns), "annotate", 0, 0, rdns_names, 0},
	{"rdns_stage", CT_ENUM, F(rdns_stage), "rcpt", 0, 0, rdns_stage_names, 0},
	{"rdns_temp_reply", CT_REPLY, F(rdns_temp_reply),
	    "451 4.7.25 Client address %{client_addr} does not resolve, check your setup", 0, 0,
	    NULL, '4'},
	{"rdns_none_reply", CT_REPLY, F(rdns_none_reply),
	    "550 5.7.25 Client address %{client_addr} has no reverse DNS (PTR) record", 0, 0, NULL,
	    0},
	{"rdns_forged_reply", CT_REPLY, F(rdns_forged_reply),
	    "550 5.7.25 Reverse DNS of client address %{client_addr} does not resolve back to it", 0,
	    0, NULL, 0},
	/* HELO/EHLO */
	{"helo_checks", CT_STRINGS, F(helo_checks), "", 0, 0, NULL, 0},
	{"our_hostnames", CT_DOMAINS, F(our_hostnames), "", 0, 0, NULL, 0},
	{"helo_syntax_reply", CT_REPLY, F(helo_syntax_reply),
	    "501 5.5.2 Helo command rejected: a valid host name or address literal is required", 0,
	    0, NULL, 0},
	{"helo_fqdn_reply", CT_REPLY, F(helo_fqdn_reply),
	    "504 5.5.2 Helo command rejected: %{helo} is not a fully qualified host name", 0, 0,
	    NULL, 0},
	{"helo_ours_reply", CT_REPLY, F(helo_ours_reply),
	    "550 5.7.1 Helo command rejected: %{helo} is this server's own name or address", 0, 0,
	    NULL, 0},
	{"helo_literal_reply", CT_REPLY, F(helo_literal_reply),
	    "550 5.7.1 Helo command rejected: %{helo} is not your address %{client_addr}", 0, 0,
	    NULL, 0},
	{"helo_resolves_reply", CT_REPLY, F(helo_resolves_reply),
	    "550 5.7.1 Helo command rejected: host name %{helo} has no address or MX record", 0, 0,
	    NULL, 0},
	{"helo_temp_reply", CT_REPLY, F(helo_temp_reply),
	    "451 4.4.3 Helo command rejected: cannot resolve %{helo} now, try again later", 0, 0,
	    NULL, '4'},
	/* MAIL FROM domain (RFC 5321 3.6.2; null MX: RFC 7505 4.2) */
	{"sender_domain_check", CT_BOOL, F(sender_domain_check), "no", 0, 0, NULL, 0},
	{"sender_domain_temp_reply", CT_REPLY, F(sender_domain_temp_reply),
	    "451 4.1.8 Sender address rejected: cannot resolve domain %{sender_domain} now, try again later",
	    0, 0, NULL, '4'},
	{"sender_domain_none_reply", CT_REPLY, F(sender_domain_none_reply),
	    "550 5.1.8 Sender address rejected: domain %{sender_domain} has no MX or address record",
	    0, 0, NULL, 0},
	{"sender_domain_nullmx_reply", CT_REPLY, F(sender_domain_nullmx_reply),
	    "550 5.7.27 Sender address rejected: domain %{sender_domain} accepts no mail (null MX)",
	    0, 0, NULL, 0},
	/* SPF (RFC 7208 8; codes of RFC 7372) and Authentication-Results (RFC 8601) */
	{"spf", CT_ENUM, F(spf), "annotate", 0, 0, spf_names, 0},
	{"spf_fail_reply", CT_REPLY, F(spf_fail_reply), "550 5.7.23 SPF fail: %{spf_explanation}",
	    0, 0, NULL, 0},
	{"spf_softfail_action", CT_ENUM, F(spf_softfail_action), "accept", 0, 0, spf_action_names,
	    0},
	{"spf_softfail_reply", CT_REPLY, F(spf_softfail_reply),
	    "550 5.7.23 SPF softfail: %{spf_explanation}", 0, 0, NULL, 0},
	{"spf_temperror_reply", CT_REPLY, F(spf_temperror_reply),
	    "451 4.7.24 SPF check of %{spf_domain} failed temporarily, try again later", 0, 0, NULL,
	    '4'},
	{"spf_permerror_action", CT_ENUM, F(spf_permerror_action), "accept", 0, 0,
	    spf_action_names, 0},
	{"spf_permerror_reply", CT_REPLY, F(spf_permerror_reply),
	    "550 5.7.24 SPF record of %{spf_domain} is invalid", 0, 0, NULL, 0},
	{"authserv_id", CT_STRING, F(authserv_id), NULL, 0, 0, NULL, 0},
	/* connection control */
	{"deny_clients", CT_CIDRS, F(deny_clients), "", 0, 0, NULL, 0},
	{"deny_clients_reply", CT_REPLY, F(deny_clients_reply), "554 5.7.1 Access denied", 0, 0, NULL, 0},
	{"allow_clients", CT_CIDRS, F(allow_clients), NULL, 0, 0, NULL, 0},
	{"allow_clients_reply", CT_REPLY, F(allow_clients_reply),
	    "554 5.7.1 Access denied: this host accepts mail only from its relays", 0, 0, NULL, 0},
	/* flood limits */
	{"limit_ipv4_prefix", CT_INT, F(limit_ipv4_prefix), "32", 8, 32, NULL, 0},
	{"limit_ipv6_prefix", CT_INT, F(limit_ipv6_prefix), "64", 16, 128, NULL, 0},
	CLIENT_LIMIT(client_connections, CT_INT, max, "0", 1000000,
	    "421 4.7.0 Too many connections from %{client_addr}, try again later", '4'),
	CLIENT_LIMIT(client_connection_rate, CT_RATE, rate, "off", 0,
	    "421 4.7.0 Too many connections from %{client_addr}, slow down", '4'),
	CLIENT_LIMIT(client_message_rate, CT_RATE, rate, "off", 0,
	    "450 4.7.1 Too many messages from %{client_addr}, try again later", '4'),
	CLIENT_LIMIT(client_recipient_rate, CT_RATE, rate, "off", 0,
	    "450 4.7.1 Too many recipients from %{client_addr}, try again later", '4'),
	CLIENT_LIMIT(client_bad_recipients, CT_RATE, rate, "off", 0,
	    "421 4.7.0 Too many unknown recipients from %{client_addr}, try again later", '4'),
	{"client_bad_recipients_penalty", CT_DURATION, F(client_bad_recipients_penalty), "10m", 1000,
	    86400000, NULL, 0},
	CLIENT_LIMIT(max_recipients, CT_INT, max, "0", CAP_RCPTS, "452 4.5.3 Too many recipients", '4'),
	CLIENT_LIMIT(max_message_size, CT_SIZE, max, "0", 1073741824,
	    "552 5.3.4 Message size exceeds fixed maximum message size", 0),
	USER_LIMIT(user_message_rate, "450 4.7.1 Too many messages from you, try again later"),
	USER_LIMIT(user_recipient_rate, "450 4.7.1 Too many recipients from you, try again later"),
	/* counter store */
	{"store", CT_STRING, F(store), "memory", 0, 0, NULL, 0},
	{"store_max_entries", CT_INT, F(store_max_entries), "100000", 1000, 100000000, NULL, 0},
	{"store_timeout", CT_DURATION, F(store_timeout), "500ms", 10, 10000, NULL, 0},
	{"store_failure", CT_ENUM, F(store_failure), "accept", 0, 0, store_failure_names, 0},
	{"store_failure_reply", CT_REPLY, F(store_failure_reply),
	    "451 4.3.0 Temporary failure, try again later", 0, 0, NULL, '4'},
	/* hops, loops, auto-replies, turf */
	{"max_hops", CT_INT, F(max_hops), "50", 0, 1000, NULL, 0},
	{"hops_reply", CT_REPLY, F(hops_reply), "554 5.4.6 Too many hops", 0, 0, NULL, 0},
	{"turf_dir", CT_STRING, F(turf_dir), NULL, 0, 0, NULL, 0},
	{"turf_max_size", CT_SIZE, F(turf_max_size), "10m", 1024, 1073741824, NULL, 0},
	{"turf_senders", CT_STRINGS, F(turf_senders), "", 0, 0, NULL, 0},
	{"blackhole_recipients", CT_STRINGS, F(blackhole_recipients), "", 0, 0, NULL, 0},
	{"loop_max", CT_INT, F(loop_max), "10", 0, 100000, NULL, 0},
	{"loop_window", CT_DURATION, F(loop_window), "10m", 1000, 604800000, NULL, 0},
	{"block_external_autoreplies", CT_BOOL, F(block_external_autoreplies), "no", 0, 0, NULL, 0},
	{"ndr_copy_to", CT_STRING, F(ndr_copy_to), NULL, 0, 0, NULL, 0},
	{"loop_header", CT_STRING, F(loop_header), NULL, 0, 0, NULL, 0},
	{"loop_reply", CT_REPLY, F(loop_reply),
	    "554 5.4.6 Routing loop detected: this message has passed through here before", 0, 0,
	    NULL, 0},
	{"sendmail_path", CT_STRING, F(sendmail_path), "/usr/sbin/sendmail", 0, 0, NULL, 0},
	/* safety nets */
	{"mode", CT_ENUM, F(mode), "enforce", 0, 0, mode_names, 0},
	{"soft_mode", CT_BOOL, F(soft_mode), "no", 0, 0, NULL, 0},
	{"on_error", CT_ENUM, F(on_error), "tempfail", 0, 0, on_error_names, 0},
	/* daemon */
	{"socket", CT_STRING, F(socket), NULL, 0, 0, NULL, 0},
	{"user", CT_STRING, F(user), NULL, 0, 0, NULL, 0},
	{"pidfile", CT_STRING, F(pidfile), NULL, 0, 0, NULL, 0},
	{"socket_mode", CT_OCTAL, F(socket_mode), "0660", 0, 0777, NULL, 0},
	{"socket_group", CT_STRING, F(socket_group), NULL, 0, 0, NULL, 0},
	{"metrics_listen", CT_STRING, F(metrics_listen), NULL, 0, 0, NULL, 0},
	{"reload_on_change", CT_BOOL, F(reload_on_change), "no", 0, 0, NULL, 0},
	{"monitor_checks", CT_STRINGS, F(monitor_checks), "", 0, 0, NULL, 0},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *check_addr_item(const char *item);
static const char *check_abs_path(const char *value);
static const char *check_loop_header(const char *value);
static const char *check_address(const char *value);

/* Values (CT_STRING) and list items (CT_STRINGS) with a form of their own. */
static const struct {
	const char *key;
	const char *(*check)(const char *value); /* NULL if fine, else what is wrong */
} value_checks[] = {
	{"turf_dir", check_abs_path},
	{"sendmail_path", check_abs_path},
	{"turf_senders", check_addr_item},
	{"blackhole_recipients", check_addr_item},
	{"ndr_copy_to", check_address},
	{"loop_header", check_loop_header},
};

/* What is wrong with V as a value or item of K, or NULL. */
static const char *
value_problem(const struct ckey *k, const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(value_checks) / sizeof(value_checks[0]); i++)
		if (strcmp(value_checks[i].key, k->name) == 0)
			return value_checks[i].check(v);
	return NULL;
}

/* Where a value came from, for diagnostics. */
struct where {
	const char *file;
	unsigned line;
	struct diag *d;
};

static void *
field(struct config *cfg, const struct ckey *k)
{
	return (char *)cfg + k->off;
}

/* Free whatever K's field holds and reset it. */
static void
field_clear(struct config *cfg, const struct ckey *k)
{
	void *f = field(cfg, k);
	size_t i;

	switch (k->type) {
	case CT_CIDRS:
		cidrset_free(*(struct cidrset **)f);
		*(struct cidrset **)f = NULL;
		break;
	case CT_DOMAINS:
		domset_free(*(struct domset **)f);
		*(struct domset **)f = NULL;
		break;
	case CT_STRINGS:
		strset_free(*(struct strset **)f);
		*(struct strset **)f = NULL;
		break;
	case CT_STRING:
		free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CT_REROUTE:
		for (i = 0; i < cfg->n_reroute; i++) {
			free(cfg->reroute[i].from);
			free(cfg->reroute[i].to);
		}
		free(cfg->reroute);
		cfg->reroute = NULL;
		cfg->n_reroute = 0;
		break;
	default:
		break;
	}
}

char *
config_resolve_path(const char *from, const char *name)
{
	const char *slash;
	size_t dirlen;
	char *out;

	if (name[0] == '/')
		return strdup(name);
	while (strncmp(name, "./", 2) == 0)
		name += 2;
	if (from == NULL || (slash = strrchr(from, '/')) == NULL)
		return strdup(name);
	dirlen = (size_t)(slash - from) + 1;
	if ((out = malloc(dirlen + strlen(name) + 1)) == NULL)
		return NULL;
	memcpy(out, from, dirlen);
	strcpy(out + dirlen, name); /* size computed above */
	return out;
}

/* ---- scalar values ---- */

static bool
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (str_ieq(v, yes[i]))
			return *out = true, true;
	for (i = 0; no[i] != NULL; i++)
		if (str_ieq(v, no[i]))
			return *out = false, true;
	return false;
}

/* Number with an optional unit suffix; UNITS lists suffix/multiplier pairs. */
static bool
parse_scaled(const char *v, long *out, const char *const *units, const long *mult, long defmult)
{
	char *end;
	long n, m = defmult;
	size_t i;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		return false;
	n = strtol(v, &end, 10);
	if (errno != 0)
		return false;
	if (*end != '\0') {
		for (i = 0; units[i] != NULL; i++)
			if (str_ieq(end, units[i]))
				break;
		if (units[i] == NULL)
			return false;
		m = mult[i];
	}
	if (n > LONG_MAX / m)
		return false;
	*out = n * m;
	return true;
}

/* "off", "0" or "N/DURATION" with N >= 1 and a duration of 1 ms to 30 days. */
static bool
parse_rate(const char *v, struct rate_spec *out)
{
	static const char *const units[] = {"ms", "s", "m", "h", "d", NULL};
	static const long mult[] = {1, 1000, 60000, 3600000, 86400000};
	const char *slash = strchr(v, '/');
	char num[32];
	long n, w;

	memset(out, 0, sizeof(*out));
	if (str_ieq(v, "off") || strcmp(v, "0") == 0)
		return true;
	if (slash == NULL || slash == v || (size_t)(slash - v) >= sizeof(num))
		return false;
	memcpy(num, v, (size_t)(slash - v));
	num[slash - v] = '\0';
	if (!parse_scaled(num, &n, units + 5, mult, 1) || n < 1 || n > 1000000000)
		return false;
	/* "10/m" reads as "10 per minute" */
	if (isalpha((unsigned char)slash[1])) {
		char one[40];

		snprintf(one, sizeof(one), "1%s", slash + 1);
		if (!parse_scaled(one, &w, units, mult, 1000))
			return false;
	} else if (!parse_scaled(slash + 1, &w, units, mult, 1000)) {
		return false;
	}
	if (w < 1 || w > 30L * 86400000)
		return false;
	out->limit = n;
	out->window_ms = w;
	return true;
}

static bool
parse_scalar(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	static const char *const dur_units[] = {"ms", "s", "m", "h", "d", NULL};
	static const long dur_mult[] = {1, 1000, 60000, 3600000, 86400000};
	static const char *const size_units[] = {"k", "m", "g", "kb", "mb", "gb", NULL};
	static const long size_mult[] = {1024, 1048576, 1073741824, 1024, 1048576, 1073741824};
	void *f = field(cfg, k);
	const char *err_s;
	long n;
	size_t i;
	char err[160];

	switch (k->type) {
	case CT_BOOL:
		if (!parse_bool(v, (bool *)f))
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not yes or no", k->name, v), false;
		return true;
	case CT_INT:
	case CT_DURATION:
	case CT_SIZE:
		if (!(k->type == CT_INT	     ? parse_scaled(v, &n, dur_units + 5, dur_mult, 1)
			: k->type == CT_DURATION ? parse_scaled(v, &n, dur_units, dur_mult, 1000)
						 : parse_scaled(v, &n, size_units, size_mult, 1)))
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not a %s", k->name, v,
				   k->type == CT_INT ? "number" : k->type == CT_DURATION ? "duration (e.g. 30s, 5m)" : "size (e.g. 10M)"),
			       false;
		if (n < k->min || n > k->max)
			return diag_error(w->d, w->file, w->line, "%s: %s is out of range", k->name, v), false;
		*(long *)f = n;
		return true;
	case CT_STRING:
		if ((err_s = value_problem(k, v)) != NULL)
			return diag_error(w->d, w->file, w->line, "%s: \"%s\": %s", k->name, v, err_s), false;
		*(char **)f = strdup(v);
		return *(char **)f != NULL;
	case CT_OCTAL: {
		char *end;

		errno = 0;
		n = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || n < k->min || n > k->max)
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not an octal mode such as 0660",
				   k->name, v),
			       false;
		*(long *)f = n;
		return true;
	}
	case CT_ENUM:
		for (i = 0; k->enums[i] != NULL; i++)
			if (str_ieq(v, k->enums[i]))
				return *(int *)f = (int)i, true;
		{
			char opts[200];
			struct strbuf sb;

			strbuf_init(&sb, opts, sizeof(opts));
			for (i = 0; k->enums[i] != NULL; i++)
				strbuf_addf(&sb, "%s%s", i ? " | " : "", k->enums[i]);
			diag_error(w->d, w->file, w->line, "%s: \"%s\" is not one of %s", k->name, v, opts);
		}
		return false;
	case CT_REPLY:
		if (!reply_parse(v, k->klass, (struct reply_tmpl *)f, err, sizeof(err)))
			return diag_error(w->d, w->file, w->line, "%s: %s", k->name, err), false;
		return true;
	case CT_RATE:
		if (!parse_rate(v, (struct rate_spec *)f))
			return diag_error(w->d, w->file, w->line,
				   "%s: \"%s\" is not N/DURATION (e.g. 30/1m) or off", k->name, v),
			       false;
		return true;
	default:
		return false;
	}
}

/* ---- list values ---- */

/* Add one list ITEM to K's field (created on first use). */
static bool
list_add(struct config *cfg, const struct ckey *k, const char *item, const struct where *w)
{
	void *f = field(cfg, k);
	const char *err = NULL;

	switch (k->type) {
	case CT_CIDRS:
		if (cidrset_add(*(struct cidrset **)f, item, &err))
			return true;
		break;
	case CT_DOMAINS:
		if (domset_add(*(struct domset **)f, item, &err))
			return true;
		break;
	case CT_STRINGS:
		if (strlen(item) > CAP_ADDR_LEN)
			err = "item too long";
		else if ((err = value_problem(k, item)) != NULL)
			break;
		else if (strset_add(*(struct strset **)f, item))
			return true;
		else
			err = "out of memory";
		break;
	case CT_REROUTE: {
		const char *colon = strchr(item, ':');
		struct reroute *r;
		char from[CAP_DOMAIN_LEN + 2];

		if (colon == NULL || (size_t)(colon - item) >= sizeof(from)) {
			err = "expected old.example:new.example";
			break;
		}
		memcpy(from, item, (size_t)(colon - item));
		from[colon - item] = '\0';
		if (!domain_is_valid(from) || !domain_is_valid(colon + 1)) {
			err = "both sides must be domain names (old.example:new.example)";
			break;
		}
		r = realloc(cfg->reroute, (cfg->n_reroute + 1) * sizeof(*r));
		if (r == NULL)
			return false;
		cfg->reroute = r;
		r = &cfg->reroute[cfg->n_reroute++];
		r->from = malloc(strlen(from) + 1);
		r->to = malloc(strlen(colon + 1) + 1);
		if (r->from == NULL || r->to == NULL)
			return false;
		str_lower_copy(r->from, strlen(from) + 1, from);
		str_lower_copy(r->to, strlen(colon + 1) + 1, colon + 1);
		if (r->from[strlen(r->from) - 1] == '.')
			r->from[strlen(r->from) - 1] = '\0';
		if (r->to[strlen(r->to) - 1] == '.')
			r->to[strlen(r->to) - 1] = '\0';
		return true;
	}
	default:
		err = "not a list";
	}
	diag_error(w->d, w->file, w->line, "%s: \"%s\": %s", k->name, item, err);
	return false;
}

static bool
is_file_ref(const char *item)
{
	return item[0] == '/' || strncmp(item, "./", 2) == 0 || strncmp(item, "../", 3) == 0;
}

/* Strip leading and trailing white space in place; returns the start. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

bool
config_watch(struct config *cfg, const char *path, int fd)
{
	struct watched *w;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	w = realloc(cfg->watched, (cfg->nwatched + 1) * sizeof(*w));
	if (w == NULL)
		return false;
	cfg->watched = w;
	w = &cfg->watched[cfg->nwatched];
	if ((w->path = strdup(path)) == NULL)
		return false;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
	cfg->nwatched++;
	return true;
}

bool
config_changed(const struct config *cfg, char *which, size_t size)
{
	size_t i;

	for (i = 0; i < cfg->nwatched; i++) {
		const struct watched *w = &cfg->watched[i];
		struct stat st;

		if (stat(w->path, &st) != 0 || st.st_ino != w->ino || st.st_size != w->size ||
		    st.st_mtim.tv_sec != w->mtime.tv_sec || st.st_mtim.tv_nsec != w->mtime.tv_nsec) {
			snprintf(which, size, "%s", w->path);
			return true;
		}
	}
	return false;
}

/* Read a list file of one item per line. */
static bool
list_add_file(struct config *cfg, const struct ckey *k, const char *name, const struct where *w)
{
	char *path = config_resolve_path(w->file, name);
	char line[CAP_CONF_LINE + 2], err[200];
	struct where fw = {path, 0, w->d};
	unsigned before = w->d->errors;
	FILE *fp;

	if (path == NULL)
		return false;
	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(w->d, w->file, w->line, "%s: cannot open %s: %s", k->name, path,
		    strerror(errno));
		free(path);
		return false;
	}
	if (!fsafe_check(path, fileno(fp), err, sizeof(err))) {
		diag_error(w->d, w->file, w->line, "%s: %s %s", k->name, path, err);
		fclose(fp);
		free(path);
		return false;
	}
	config_watch(cfg, path, fileno(fp));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *item;

		fw.line++;
		if (strlen(line) > CAP_CONF_LINE) {
			diag_error(w->d, path, fw.line, "line longer than %d bytes", CAP_CONF_LINE);
			break;
		}
		item = trim(line);
		if (*item == '\0' || *item == '#')
			continue;
		list_add(cfg, k, item, &fw);
	}
	fclose(fp);
	free(path);
	return w->d->errors == before;
}

static bool
parse_list(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	char *copy = strdup(v), *p, *item;
	void **f = field(cfg, k);
	unsigned before = w->d->errors;

	if (copy == NULL)
		return false;
	if (k->type == CT_CIDRS)
		*f = cidrset_new();
	else if (k->type == CT_DOMAINS)
		*f = domset_new();
	else if (k->type == CT_STRINGS)
		*f = strset_new();
	if (k->type != CT_REROUTE && *f == NULL) {
		free(copy);
		return false;
	}
	for (p = copy; (item = strsep(&p, " \t,")) != NULL;) {
		if (*item == '\0')
			continue;
		if (is_file_ref(item))
			list_add_file(cfg, k, item, w);
		else
			list_add(cfg, k, item, w);
	}
	free(copy);
	if (k->type == CT_CIDRS)
		cidrset_freeze(*f);
	return w->d->errors == before;
}

static bool
parse_value(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	char **text = &cfg->text[k - keys];

	field_clear(cfg, k);
	free(*text);
	if ((*text = strdup(v)) == NULL)
		return false;
	switch (k->type) {
	case CT_CIDRS:
	case CT_DOMAINS:
	case CT_STRINGS:
	case CT_REROUTE:
		return parse_list(cfg, k, v, w);
	default:
		return parse_scalar(cfg, k, v, w);
	}
}

/* ---- the file ---- */

static const struct ckey *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Handle one logical line "key = value" that started at W->line. */
static void
config_line(struct config *cfg, char *line, unsigned *set_at, const struct where *w)
{
	char *eq = strchr(line, '='), *name, *value;
	const struct ckey *k;

	if (eq == NULL) {
		diag_error(w->d, w->file, w->line, "expected \"key = value\"");
		return;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (*name == '\0') {
		diag_error(w->d, w->file, w->line, "missing key before \"=\"");
		return;
	}
	if ((k = key_find(name)) == NULL) {
		diag_error(w->d, w->file, w->line, "unknown key \"%s\"", name);
		return;
	}
	if (set_at[k - keys] != 0) {
		diag_error(w->d, w->file, w->line, "%s already set at line %u", name, set_at[k - keys]);
		return;
	}
	set_at[k - keys] = w->line;
	parse_value(cfg, k, value, w);
}

/* Read PATH line by line, joining continuation lines. */
static void
config_read(struct config *cfg, const char *path, struct diag *d)
{
	char raw[CAP_CONF_LINE + 2], logical[CAP_CONF_LINE + 2];
	unsigned set_at[NKEYS] = {0}, lineno = 0;
	struct where w = {path, 0, d};
	struct strbuf sb;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(d, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!fsafe_check(path, fileno(fp), raw, sizeof(raw))) {
		diag_error(d, path, 0, "%s; refusing it", raw);
		fclose(fp);
		return;
	}
	config_watch(cfg, path, fileno(fp));
	strbuf_init(&sb, logical, sizeof(logical));
	for (;;) {
		bool eof = fgets(raw, sizeof(raw), fp) == NULL;
		bool indented = !eof && (raw[0] == ' ' || raw[0] == '\t');
		char *t;

		if (!eof)
			lineno++;
		if (!eof && strlen(raw) > CAP_CONF_LINE) {
			diag_error(d, path, lineno, "line longer than %d bytes", CAP_CONF_LINE);
			break;
		}
		t = eof ? raw : trim(raw);
		if (!eof && (*t == '\0' || *t == '#'))
			continue; /* blank and comment lines, even between continuations */
		if (indented && sb.len > 0) {
			strbuf_addc(&sb, ' ');
			strbuf_add(&sb, t);
			continue;
		}
		if (sb.len > 0) {
			if (sb.truncated)
				diag_error(d, path, w.line, "value longer than %d bytes", CAP_CONF_LINE);
			else
				config_line(cfg, logical, set_at, &w);
			strbuf_init(&sb, logical, sizeof(logical));
		}
		if (eof)
			break;
		if (indented) {
			diag_error(d, path, lineno, "continuation line without a key before it");
			continue;
		}
		w.line = lineno;
		strbuf_add(&sb, t);
	}
	fclose(fp);
}

/* One dns_resolvers item: "IP" or "IP@port" (libunbound's forwarder syntax). */
static bool
resolver_valid(const char *item)
{
	char addr[IPADDR_TEXT + 8];
	const char *at = strchr(item, '@');
	size_t n = at ? (size_t)(at - item) : strlen(item);
	struct ipaddr ip;
	char *end;
	long port;

	if (n >= sizeof(addr))
		return false;
	memcpy(addr, item, n);
	addr[n] = '\0';
	if (strchr(addr, '[') != NULL || !ipaddr_parse(addr, &ip))
		return false;
	if (at == NULL)
		return true;
	errno = 0;
	port = strtol(at + 1, &end, 10);
	return errno == 0 && *end == '\0' && end != at + 1 && port > 0 && port < 65536;
}

struct resolvers_check {
	size_t keywords, addresses;
	char bad[CAP_LOG_FIELD];
};

static void
resolver_item(const char *item, void *arg)
{
	struct resolvers_check *rc = arg;

	if (strcmp(item, "resolv.conf") == 0 || strcmp(item, "none") == 0)
		rc->keywords++;
	else if (resolver_valid(item))
		rc->addresses++;
	else if (rc->bad[0] == '\0')
		str_copy(rc->bad, sizeof(rc->bad), item);
}

struct helo_check_names {
	unsigned mask;
	char bad[CAP_LOG_FIELD];
};

static void
helo_check_item(const char *item, void *arg)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"syntax", HELO_CHK_SYNTAX}, {"fqdn", HELO_CHK_FQDN}, {"ours", HELO_CHK_OURS},
		{"literal", HELO_CHK_LITERAL}, {"resolves", HELO_CHK_RESOLVES}};
	struct helo_check_names *hc = arg;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(item, names[i].name) == 0) {
			hc->mask |= names[i].bit;
			return;
		}
	}
	if (hc->bad[0] == '\0')
		str_copy(hc->bad, sizeof(hc->bad), item);
}

/* The DNS and identity keys: values the table's types cannot check alone. */
static void
config_validate_dns(struct config *cfg, struct diag *d)
{
	struct resolvers_check rc = {0};
	struct helo_check_names hc = {0};
	char *path;

	strset_foreach(cfg->dns_resolvers, resolver_item, &rc);
	if (rc.bad[0] != '\0')
		diag_error(d, cfg->path, 0, "dns_resolvers: \"%s\" is not an address or address@port",
		    rc.bad);
	else if (rc.keywords > 0 && rc.keywords + rc.addresses > 1)
		diag_error(d, cfg->path, 0,
		    "dns_resolvers: resolv.conf and none stand alone, without addresses");
	else if (rc.keywords + rc.addresses == 0)
		diag_error(d, cfg->path, 0, "dns_resolvers: empty (say resolv.conf, none or addresses)");
	strset_foreach(cfg->helo_checks, helo_check_item, &hc);
	if (hc.bad[0] != '\0')
		diag_error(d, cfg->path, 0,
		    "helo_checks: \"%s\" is not one of syntax, fqdn, ours, literal, resolves", hc.bad);
	cfg->helo_check_mask = hc.mask;
	if (cfg->authserv_id != NULL && !domain_is_valid(cfg->authserv_id))
		diag_error(d, cfg->path, 0, "authserv_id: \"%s\" is not a host name", cfg->authserv_id);
	if (cfg->dns_config != NULL) {
		/* Relative to the configuration file, like list files. */
		if ((path = config_resolve_path(cfg->path, cfg->dns_config)) == NULL)
			return;
		free(cfg->dns_config);
		cfg->dns_config = path;
		if (access(path, R_OK) != 0)
			diag_error(d, cfg->path, 0, "dns_config: cannot read %s: %s", path, strerror(errno));
	}
}

/* [HOST:]PORT, [v6]:PORT or HOST:PORT with a port of 1-65535. */
static bool
listen_valid(const char *v)
{
	const char *port = strrchr(v, ':');
	char *end;
	long n;

	port = port ? port + 1 : v;
	n = strtol(port, &end, 10);
	return *port != '\0' && *end == '\0' && n > 0 && n < 65536;
}

/* The store key names a back end this build has. */
static void
validate_store(const struct config *cfg, struct diag *d)
{
	struct store_url url;
	char err[160];

	if (!store_url_parse(cfg->store, &url, err, sizeof(err))) {
		diag_error(d, cfg->path, 0, "store: \"%s\": %s", cfg->store, err);
		return;
	}
#ifndef HAVE_HIREDIS
	if (url.redis)
		diag_error(d, cfg->path, 0,
		    "store: %s needs Redis support, but this relayguard was built without hiredis "
		    "(rebuild with libhiredis-dev installed, or use store = memory)",
		    cfg->store);
#endif
}

bool
config_loop_header(const struct config *cfg, char *name, size_t namesize, const char **value)
{
	const char *colon, *v, *p;
	size_t n;

	if (cfg->loop_header == NULL || (colon = strchr(cfg->loop_header, ':')) == NULL)
		return false;
	n = (size_t)(colon - cfg->loop_header);
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (n == 0 || n >= namesize || *v == '\0')
		return false;
	/* RFC 5322 2.2: a field name is printable ASCII except ":" (and no blanks). */
	for (p = cfg->loop_header; p < colon; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	for (p = v; *p != '\0'; p++)
		if ((*p < ' ' && *p != '\t') || *p > '~')
			return false;
	memcpy(name, cfg->loop_header, n);
	name[n] = '\0';
	*value = v;
	return true;
}

/* ---- per-value checks of the hops, loops and turf keys ---- */

/* turf_senders and blackhole_recipients items: user@domain or @domain. */
static const char *
check_addr_item(const char *item)
{
	const char *at = strrchr(item, '@');

	if (at == NULL || at[1] == '\0' || !domain_is_valid(at + 1) || strpbrk(item, "<>\" ") != NULL)
		return "not user@domain or @domain";
	return NULL;
}

static const char *
check_abs_path(const char *value)
{
	return value[0] == '/' ? NULL : "not an absolute path";
}

static const char *
check_loop_header(const char *value)
{
	struct config c = {.loop_header = (char *)value};
	char name[80];
	const char *v;

	return config_loop_header(&c, name, sizeof(name), &v) ? NULL : "not \"Name: value\"";
}

static const char *
check_address(const char *value)
{
	struct addr a;

	if (addr_parse(value, &a) != ADDR_OK || (a.flags & (ADDR_NULL | ADDR_NO_DOMAIN | ADDR_HIDES_ROUTE)))
		return "not an address user@domain";
	return NULL;
}

/* Turf keys: the directory, and the warning when turf has nowhere to put its copies. */
static void
validate_turf(struct config *cfg, struct diag *d)
{
	struct stat st;

	if (cfg->turf_dir != NULL && (stat(cfg->turf_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		diag_warn(d, cfg->path, 0,
		    "turf_dir: %s is not a directory; until it is, every turf is answered 451 4.3.0",
		    cfg->turf_dir);
	if (cfg->turf_dir == NULL &&
	    (strset_count(cfg->turf_senders) > 0 || strset_count(cfg->blackhole_recipients) > 0 ||
		cfg->block_external_autoreplies))
		diag_warn(d, cfg->path, 0,
		    "turf_dir is not set: turf_senders, blackhole_recipients and blocked auto-replies "
		    "are discarded without a copy");
}

/* Checks that involve several keys. */
static void
config_validate(struct config *cfg, struct diag *d)
{
	size_t i;

	config_validate_dns(cfg, d);
	validate_store(cfg, d);
	/* RFC 5321 4.5.3.1.8: a server must take at least 100 recipients. */
	if (cfg->max_recipients.max > 0 && cfg->max_recipients.max < 100)
		diag_warn(d, cfg->path, 0, "max_recipients: %ld is below the 100 recipients "
					   "RFC 5321 4.5.3.1.8 asks a server to accept",
		    cfg->max_recipients.max);
	if (cfg->allow_clients != NULL && cidrset_count(cfg->allow_clients) == 0)
		diag_warn(d, cfg->path, 0, "allow_clients is set but empty: every client is refused");

	if (cfg->metrics_listen != NULL && !listen_valid(cfg->metrics_listen))
		diag_error(d, cfg->path, 0, "metrics_listen: \"%s\" is not [HOST:]PORT", cfg->metrics_listen);
	validate_turf(cfg, d);

	for (i = 0; i < cfg->n_reroute; i++) {
		if (!domset_contains(cfg->local_domains, cfg->reroute[i].from) &&
		    !domset_contains(cfg->always_relay_domains, cfg->reroute[i].from))
			diag_warn(d, cfg->path, 0,
			    "reroute: %s is neither a local nor an always-relay domain, so mail to it is refused before it can be rerouted",
			    cfg->reroute[i].from);
	}
}

struct config *
config_load(const char *path, struct diag *d)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	unsigned before = d->errors;
	size_t i;

	if (cfg == NULL || (cfg->text = calloc(NKEYS, sizeof(char *))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		diag_error(d, path, 0, "out of memory");
		config_free(cfg);
		return NULL;
	}
	for (i = 0; i < NKEYS; i++) {
		struct where w = {"(built-in default)", 0, d};

		if (keys[i].def != NULL)
			parse_value(cfg, &keys[i], keys[i].def, &w);
	}
	config_read(cfg, path, d);
	if (d->errors == before)
		config_validate(cfg, d);
	if (d->errors != before) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		field_clear(cfg, &keys[i]);
		if (cfg->text != NULL)
			free(cfg->text[i]);
	}
	free(cfg->text);
	for (i = 0; i < cfg->nwatched; i++)
		free(cfg->watched[i].path);
	free(cfg->watched);
	free(cfg->path);
	free(cfg);
}

void
config_diff(const struct config *old, const struct config *cfg, char *buf, size_t size)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, buf, size);
	for (i = 0; i < NKEYS; i++) {
		const char *a = old ? old->text[i] : NULL, *b = cfg->text[i];

		if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", keys[i].name);
	}
	/* Files read again that changed (rule files, list files) although no key did. */
	for (i = 0; old != NULL && i < cfg->nwatched; i++) {
		const struct watched *w = &cfg->watched[i], *o = NULL;
		size_t j;

		for (j = 0; j < old->nwatched && o == NULL; j++)
			if (strcmp(old->watched[j].path, w->path) == 0)
				o = &old->watched[j];
		if (o == NULL || o->ino != w->ino || o->size != w->size ||
		    o->mtime.tv_sec != w->mtime.tv_sec || o->mtime.tv_nsec != w->mtime.tv_nsec)
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", w->path);
	}
}

void
config_print(const struct config *cfg, FILE *fp)
{
	size_t i;

	fprintf(fp, "# effective configuration of %s\n", cfg->path);
	for (i = 0; i < NKEYS; i++) {
		if (cfg->text[i] == NULL)
			fprintf(fp, "# %s is not set\n", keys[i].name);
		else
			fprintf(fp, "%s = %s\n", keys[i].name, cfg->text[i]);
	}
}
