/*
 * authres.c - Authentication-Results and Received-SPF at end of message
 * (see authres.h).
 */
#include "autoconf.h"

#include <string.h>

#include "authres.h"
#include "rdns.h"
#include "session_priv.h"
#include "strbuf.h"

/* Header field values we build stay well under the 998-byte line limit (RFC 5322 2.1.1). */
#define AUTHRES_VALUE_MAX 900

/* Skip white space and (nested) comments (RFC 5322 3.2.2 CFWS). */
static const char *
skip_cfws(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (depth > 0 && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			break;
	}
	return p;
}

bool
authres_claims(const char *value, const char *authserv_id)
{
	char id[CAP_DOMAIN_LEN + 1];
	struct strbuf sb;
	const char *p = skip_cfws(value);

	strbuf_init(&sb, id, sizeof(id));
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			strbuf_addc(&sb, *p);
		}
	} else {
		for (; *p != '\0' && !strchr(" \t\r\n;(", *p); p++)
			strbuf_addc(&sb, *p);
	}
	return !sb.truncated && id[0] != '\0' && str_ieq(id, authserv_id);
}

bool
authres_applies(const struct session *s)
{
	return (s->cfg->rdns != RDNS_OFF || s->cfg->spf != SPF_OFF) && !session_is_trusted(s) &&
	       !session_is_internal(s);
}

void
authres_header(struct session *s, const char *name, const char *value)
{
	if (!str_ieq(name, "Authentication-Results") || !authres_applies(s))
		return;
	s->n_authres++;
	if (!authres_claims(value, session_authserv_id(s)))
		return;
	if (s->n_forged < CAP_AUTHRES_FORGED)
		s->forged[s->n_forged] = s->n_authres;
	s->n_forged++;
}

/* Delete the forged fields, highest index first. */
static bool
delete_forged(struct session *s)
{
	unsigned i;

	if (s->n_forged > CAP_AUTHRES_FORGED) {
		for (i = s->n_authres; i >= 1; i--)
			if (!session_add_header(s, HDR_DELETE, "Authentication-Results", NULL, (int)i))
				return false;
		return true;
	}
	for (i = s->n_forged; i >= 1; i--)
		if (!session_add_header(s, HDR_DELETE, "Authentication-Results", NULL,
			(int)s->forged[i - 1]))
			return false;
	return true;
}

/*
 * Fold VALUE of field NAME into OUT (RFC 5322 2.2.3): a space outside
 * quoted strings becomes "\n\t" where a line would pass 78 characters.
 * The milter protocol wants LF, not CRLF (LIBRARIES 1.9).
 */
static void
fold(const char *name, const char *value, char *out, size_t size)
{
	struct strbuf sb;
	size_t col = strlen(name) + 2, i, word;
	bool quoted = false;

	strbuf_init(&sb, out, size);
	for (i = 0; value[i] != '\0'; i += word) {
		/* One word: up to the next space outside quotes. */
		for (word = 0; value[i + word] != '\0' && (quoted || value[i + word] != ' ' || word == 0);
		     word++) {
			if (value[i + word] == '"' && (i + word == 0 || value[i + word - 1] != '\\'))
				quoted = !quoted;
		}
		if (value[i] == ' ' && col + word > 78) {
			strbuf_add(&sb, "\n\t");
			strbuf_addn(&sb, value + i + 1, word - 1);
			col = 8 + word - 1;
		} else {
			strbuf_addn(&sb, value + i, word);
			col += word;
		}
	}
}

/* Insert field NAME: VALUE, folded, at the top. */
static bool
insert_folded(struct session *s, const char *name, const char *value)
{
	char folded[AUTHRES_VALUE_MAX + 64];

	fold(name, value, folded, sizeof(folded));
	return session_add_header(s, HDR_INSERT, name, folded, 0);
}

/* Is TEXT safe inside a comment or as a bare token: a host name? */
static bool
plain_name(const char *text)
{
	return text[0] != '\0' && domain_is_valid(text);
}

/* "iprev=pass policy.iprev=192.0.2.1 (name)" (RFC 8601 2.7.3, 3). */
static void
add_iprev(struct strbuf *sb, struct session *s)
{
	struct iprev_result r;

	if (!rdns_result(s, &r))
		return;
	strbuf_addf(sb, "; iprev=%s", iprev_authres_name(r.klass));
	if (r.klass == IPREV_TEMP)
		strbuf_addf(sb, " reason=\"DNS %s\"",
		    dns_why_name(r.why != DNS_WHY_NONE ? r.why : DNS_WHY_ERROR));
	/* An IPv6 address is not a token: quote it. */
	strbuf_addf(sb, strchr(s->client_addr, ':') ? " policy.iprev=\"%s\"" : " policy.iprev=%s",
	    s->client_addr);
	if ((r.klass == IPREV_PASS || r.klass == IPREV_FORGED) && plain_name(r.name))
		strbuf_addf(sb, " (%s)", r.name);
}

/* "spf=pass smtp.mailfrom=example.com" (RFC 8601 2.7.2). */
static void
add_spf(struct strbuf *sb, const struct spf_outcome *o)
{
	strbuf_addf(sb, "; spf=%s", spf_result_name(o->result));
	if (o->result == SPF_R_TEMPERROR || o->result == SPF_R_PERMERROR)
		strbuf_addf(sb, " reason=\"%s\"", o->problem);
	if (plain_name(o->domain))
		strbuf_addf(sb, " smtp.%s=%s", o->helo_identity ? "helo" : "mailfrom", o->domain);
}

/* The Received-SPF field for O. */
static bool
add_received_spf(struct session *s, const struct spf_outcome *o)
{
	char value[AUTHRES_VALUE_MAX], sender[CAP_LOCALPART_LEN + CAP_DOMAIN_LEN + 4];
	const struct addr *a = &s->sender_addr;

	if (a->flags & ADDR_NULL)
		sender[0] = '\0';
	else
		snprintf(sender, sizeof(sender), "%s@%s", a->local, a->domain);
	spf_received_value(o, session_authserv_id(s), s->client_addr, s->have_helo ? s->helo : NULL,
	    (a->flags & ADDR_NULL) ? NULL : sender, value, sizeof(value));
	return insert_folded(s, "Received-SPF", value);
}

bool
authres_eom(struct session *s)
{
	const struct spf_outcome *o;
	char value[AUTHRES_VALUE_MAX];
	struct strbuf sb;

	if (!authres_applies(s))
		return true;
	if (!delete_forged(s))
		return false;
	o = spf_session(s);
	if (o != NULL && !add_received_spf(s, o))
		return false;
	strbuf_init(&sb, value, sizeof(value));
	strbuf_add(&sb, session_authserv_id(s));
	add_iprev(&sb, s);
	if (o != NULL)
		add_spf(&sb, o);
	if (sb.len == strlen(session_authserv_id(s)))
		strbuf_add(&sb, "; none"); /* nothing was checked (RFC 8601 2.2) */
	return insert_folded(s, "Authentication-Results", value);
}
