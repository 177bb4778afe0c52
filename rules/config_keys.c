/*
 * config_keys.c - the configuration language: every key with its type,
 * default, bounds and struct config field (STYLE 10), the values with a
 * form of their own, and the checks that involve several keys.  Defaults
 * go through the same parsers as the file (config_value.c), so a default
 * can never be something the file could not say.
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

#include "config_priv.h"

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

const struct ckey config_keys[] = {
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
	{"loop_tempfail_reply", CT_REPLY, F(loop_tempfail_reply),
	    "451 4.4.6 Mail loop detected: this message came here too often, try again later", 0, 0,
	    NULL, '4'},
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

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);

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

const char *
config_keys_value_problem(const struct ckey *k, const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(value_checks) / sizeof(value_checks[0]); i++)
		if (strcmp(value_checks[i].key, k->name) == 0)
			return value_checks[i].check(v);
	return NULL;
}

const struct ckey *
config_keys_find(const char *name)
{
	size_t i;

	for (i = 0; i < config_nkeys; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
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
void
config_keys_validate(struct config *cfg, struct diag *d)
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
