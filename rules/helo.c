/*
 * helo.c - HELO/EHLO checks (see helo.h).
 */
#include "autoconf.h"

#include <string.h>

#include "dns.h"
#include "helo.h"
#include "session_priv.h"
#include "strbuf.h"

bool
helo_is_fqdn(const char *name)
{
	size_t len = strlen(name);
	const char *top;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || !domain_is_valid(name))
		return false;
	/* The top label: after the last dot before the (optional) trailing one. */
	for (top = name + len; top > name && top[-1] != '.'; top--)
		;
	if (top == name)
		return false; /* one label */
	for (; top < name + len; top++)
		if (*top < '0' || *top > '9')
			return true;
	return false; /* "192.0.2.1": an address without brackets is no name */
}

/* Is NAME one of ours: our_hostnames, the host name, the MTA's $j? */
static bool
name_is_ours(const struct session *s, const char *name)
{
	const char *j = session_macro(s, "j");

	return domset_contains(s->cfg->our_hostnames, name) ||
	       (s->svc != NULL && str_ieq(name, s->svc->hostname)) || (j != NULL && str_ieq(name, j));
}

/* Does the session's HELO name have an address or MX record?  Cached per HELO. */
static enum dns_status
helo_resolves(struct session *s, enum dns_why *why)
{
	static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX};
	struct dns_answer a;
	size_t i;

	if (s->helo_dns_known && strcmp(s->helo_checked, s->helo) == 0) {
		*why = s->helo_dns_why;
		return s->helo_dns;
	}
	s->helo_dns = DNS_NXDOMAIN;
	s->helo_dns_why = DNS_WHY_NONE;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		dns_lookup(s->svc ? s->svc->dns : NULL, s->helo, types[i], &s->dns_deadline, &a);
		if (a.status == DNS_OK || a.status == DNS_TEMP) {
			s->helo_dns = a.status;
			s->helo_dns_why = a.why;
		}
		dns_answer_clear(&a);
		if (s->helo_dns == DNS_OK)
			break;
		if (s->helo_dns == DNS_TEMP)
			break; /* a later type might exist; we cannot tell */
	}
	/* A timeout is not worth remembering: the next command may get an answer. */
	s->helo_dns_known = !(s->helo_dns == DNS_TEMP && s->helo_dns_why == DNS_WHY_TIMEOUT);
	str_copy(s->helo_checked, sizeof(s->helo_checked), s->helo);
	*why = s->helo_dns_why;
	return s->helo_dns;
}

/* The HELO as it may appear in a detail (printable, bounded). */
static const char *
shown(const struct session *s, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add_printable(&sb, s->helo, 64);
	return buf;
}

static enum check_res
check_literal(struct session *s, struct verdict *v, unsigned mask)
{
	struct ipaddr lit;
	char buf[96];

	if (!ipaddr_parse(s->helo, &lit)) {
		if (!(mask & HELO_CHK_SYNTAX))
			return CHECK_NEXT;
		session_refuse(s, v, &s->cfg->helo_syntax_reply, "helo", "syntax (bad literal %s)",
		    shown(s, buf, sizeof(buf)));
		return CHECK_DONE;
	}
	if ((mask & HELO_CHK_OURS) && session_literal_is_ours(s, &lit)) {
		session_refuse(s, v, &s->cfg->helo_ours_reply, "helo", "ours (%s)", s->helo);
		return CHECK_DONE;
	}
	if ((mask & HELO_CHK_LITERAL) && s->have_client && !ipaddr_equal(&lit, &s->client)) {
		session_refuse(s, v, &s->cfg->helo_literal_reply, "helo", "literal (%s is not %s)",
		    s->helo, s->client_addr);
		return CHECK_DONE;
	}
	session_note_pass(v, "helo", "literal");
	return CHECK_NEXT;
}

static enum check_res
check_host_name(struct session *s, struct verdict *v, unsigned mask)
{
	const struct config *cfg = s->cfg;
	struct ipaddr bare;
	enum dns_status st;
	enum dns_why why;
	char buf[96];

	if ((mask & HELO_CHK_FQDN) && !helo_is_fqdn(s->helo)) {
		session_refuse(s, v, &cfg->helo_fqdn_reply, "helo", "fqdn (%s)", shown(s, buf, sizeof(buf)));
		return CHECK_DONE;
	}
	if ((mask & HELO_CHK_OURS) && (name_is_ours(s, s->helo) ||
					  (ipaddr_parse(s->helo, &bare) && session_literal_is_ours(s, &bare)))) {
		session_refuse(s, v, &cfg->helo_ours_reply, "helo", "ours (%s)", s->helo);
		return CHECK_DONE;
	}
	if (!(mask & HELO_CHK_RESOLVES)) {
		session_note_pass(v, "helo", "ok");
		return CHECK_NEXT;
	}
	st = helo_resolves(s, &why);
	if (st == DNS_TEMP) {
		session_refuse(s, v, &cfg->helo_temp_reply, "helo", "temp (%s)", dns_why_name(why));
		return CHECK_DONE;
	}
	if (st != DNS_OK) {
		session_refuse(s, v, &cfg->helo_resolves_reply, "helo", "resolves (%s: %s)",
		    shown(s, buf, sizeof(buf)), why == DNS_WHY_BADNAME ? "not a name" : "no record");
		return CHECK_DONE;
	}
	session_note_pass(v, "helo", "resolves");
	return CHECK_NEXT;
}

enum check_res
helo_check(struct session *s, struct verdict *v)
{
	unsigned mask = s->cfg->helo_check_mask;
	char buf[96];

	if (mask == 0 || session_identity_exempt(s))
		return CHECK_NEXT;
	if (!s->have_helo || s->helo[0] == '\0') {
		if (!(mask & HELO_CHK_SYNTAX))
			return CHECK_NEXT;
		session_refuse(s, v, &s->cfg->helo_syntax_reply, "helo", "syntax (no HELO/EHLO)");
		return CHECK_DONE;
	}
	if (s->helo[0] == '[')
		return check_literal(s, v, mask);
	if ((mask & HELO_CHK_SYNTAX) && !domain_is_valid(s->helo)) {
		session_refuse(s, v, &s->cfg->helo_syntax_reply, "helo", "syntax (%s)",
		    shown(s, buf, sizeof(buf)));
		return CHECK_DONE;
	}
	return check_host_name(s, v, mask);
}
