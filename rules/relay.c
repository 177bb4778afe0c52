/*
 * relay.c - anti-relay checks (see relay.h).
 *
 * The RCPT argument is judged as the client typed it, and together with
 * the MTA's own resolution of it ({rcpt_addr}): an MTA may honour a percent
 * hack, bang path or source route after its own rewriting (Postfix's
 * allow_percent_hack, swap_bangpath; RFC 5321 Appendix C), so either view
 * naming a destination that is not ours is a relay attempt.
 */
#include "autoconf.h"

#include <string.h>

#include "relay.h"
#include "session_priv.h"
#include "strbuf.h"

enum check_res
relay_mail_syntax(struct session *s, struct verdict *v)
{
	enum addr_status st = addr_parse(s->sender, &s->sender_addr);

	/* <user> without a domain is no sender address (RFC 5321 4.1.2), but
	 * clients that may relay (our own hosts) are left to the MTA, which
	 * qualifies it. */
	if (st == ADDR_OK && (s->sender_addr.flags & ADDR_NO_DOMAIN) && !session_may_relay(s))
		st = ADDR_BAD_SYNTAX;
	if (st == ADDR_OK)
		return CHECK_NEXT;
	session_refuse(s, v, &s->cfg->bad_sender_reply, "syntax", "sender %s", addr_status_name(st));
	return CHECK_DONE;
}

enum check_res
relay_rcpt_syntax(struct session *s, struct verdict *v)
{
	enum addr_status st = addr_parse(s->cur_rcpt, &s->cur_rcpt_addr);

	if (st == ADDR_OK && (s->cur_rcpt_addr.flags & ADDR_NULL))
		st = ADDR_BAD_SYNTAX; /* RCPT TO:<> */
	if (st == ADDR_OK)
		return CHECK_NEXT;
	session_refuse(s, v, &s->cfg->bad_rcpt_reply, "syntax", "recipient %s", addr_status_name(st));
	return CHECK_DONE;
}

/* "local@domain" of A into BUF; false if it does not fit (then it matches nothing). */
static bool
full_address(const struct addr *a, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add(&sb, a->local);
	strbuf_addc(&sb, '@');
	strbuf_add(&sb, a->domain);
	return !sb.truncated;
}

/* Is the recipient's destination this host? */
static bool
rcpt_is_local(const struct session *s, const struct addr *a)
{
	if (a->flags & ADDR_NO_DOMAIN)
		return true;
	if (a->flags & ADDR_LITERAL)
		return session_literal_is_ours(s, &a->literal);
	return session_domain_is_local(s, a->domain);
}

bool
relay_rcpt_is_local(const struct session *s, const struct addr *a)
{
	return !addr_hides_route(a) && rcpt_is_local(s, a);
}

enum check_res
relay_rcpt_exempt(struct session *s, struct verdict *v)
{
	const struct addr *a = &s->cur_rcpt_addr;
	const struct strset *list = s->cfg->always_accept_recipients;
	char full[CAP_ADDR_LEN + 1];

	if (addr_hides_route(a) || !rcpt_is_local(s, a))
		return CHECK_NEXT;
	if (!str_ieq(a->local, "postmaster") && !strset_contains(list, a->local)) {
		if ((a->flags & ADDR_NO_DOMAIN) || !full_address(a, full, sizeof(full)) ||
		    !strset_contains(list, full))
			return CHECK_NEXT;
	}
	s->cur_rcpt_flags |= RCPT_EXEMPT | RCPT_LOCAL;
	session_note(v, "always_accept", "%s", a->local);
	return CHECK_DONE;
}

/*
 * The MTA's own view: if it resolved the recipient to an address whose
 * domain is not ours, return that domain.  A mailer of "error" means the
 * MTA refuses the address itself; a {rcpt_addr} without "@" is a local
 * user (Sendmail's local mailer).
 */
static const char *
mta_foreign_domain(const struct session *s)
{
	const char *mailer = session_macro(s, "{rcpt_mailer}");
	const char *raddr = session_macro(s, "{rcpt_addr}");
	const char *at;
	struct addr ra;

	if (raddr == NULL || (mailer != NULL && (strcmp(mailer, "error") == 0 || strcmp(mailer, "discard") == 0)))
		return NULL;
	if ((at = strrchr(raddr, '@')) == NULL)
		return NULL;
	if (addr_parse(raddr, &ra) != ADDR_OK || (ra.flags & ADDR_NO_DOMAIN))
		return at + 1;
	if (rcpt_is_local(s, &ra) || (!(ra.flags & ADDR_LITERAL) &&
					 domset_contains(s->cfg->always_relay_domains, ra.domain)))
		return NULL;
	return at + 1;
}

enum check_res
relay_rcpt_destination(struct session *s, struct verdict *v)
{
	const struct addr *a = &s->cur_rcpt_addr;
	bool may_relay = session_may_relay(s), local, relay_ok;
	const char *foreign;

	if (!may_relay && addr_hides_route(a)) {
		session_refuse(s, v, &s->cfg->route_reply, "relay", "%s", addr_route_form(a));
		return CHECK_DONE;
	}
	/* A routed address to a local domain is not a local destination. */
	local = !addr_hides_route(a) && rcpt_is_local(s, a);
	if (local)
		s->cur_rcpt_flags |= RCPT_LOCAL;
	relay_ok = local || (!(a->flags & ADDR_LITERAL) &&
				domset_contains(s->cfg->always_relay_domains, a->domain));
	if (may_relay)
		return CHECK_NEXT;
	if (!relay_ok) {
		session_refuse(s, v, &s->cfg->relay_reply, "relay", "%s",
		    (a->flags & ADDR_LITERAL) ? "address literal is not ours" : "domain not local");
		return CHECK_DONE;
	}
	if (s->cfg->mta_resolution_check && (foreign = mta_foreign_domain(s)) != NULL) {
		char shown[CAP_LOG_FIELD + 8];
		struct strbuf sb;

		strbuf_init(&sb, shown, sizeof(shown));
		strbuf_add_printable(&sb, foreign, 128);
		session_refuse(s, v, &s->cfg->relay_reply, "relay", "MTA routes it to %s", shown);
		return CHECK_DONE;
	}
	return CHECK_NEXT;
}

enum check_res
relay_rcpt_local_user(struct session *s, struct verdict *v)
{
	const struct addr *a = &s->cur_rcpt_addr;
	const struct strset *users = s->cfg->local_recipients;
	char full[CAP_ADDR_LEN + 1];

	if (users == NULL || !(s->cur_rcpt_flags & RCPT_LOCAL))
		return CHECK_NEXT;
	if (strset_contains(users, a->local))
		return CHECK_NEXT;
	if (!(a->flags & ADDR_NO_DOMAIN)) {
		if (full_address(a, full, sizeof(full)) && strset_contains(users, full))
			return CHECK_NEXT;
	}
	session_refuse(s, v, &s->cfg->unknown_user_reply, "local_recipients", NULL);
	return CHECK_DONE;
}
