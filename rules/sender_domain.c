/*
 * sender_domain.c - does the MAIL FROM domain exist for mail (see
 * sender_domain.h)?
 */
#include "autoconf.h"

#include "sender_domain.h"
#include "session_priv.h"

/* A null MX: exactly one MX record, preference 0, exchange "." (RFC 7505 3). */
static bool
is_null_mx(const struct dns_answer *mx)
{
	return mx->n == 1 && mx->rr[0].pref == 0 && mx->rr[0].text[0] == '\0';
}

enum sender_domain_class
sender_domain_classify(const struct dns_answer *mx, const struct dns_answer *a,
    const struct dns_answer *aaaa, enum dns_why *why)
{
	*why = DNS_WHY_NONE;
	if (mx->status == DNS_OK)
		return is_null_mx(mx) ? SD_NULLMX : SD_OK;
	if (mx->status == DNS_TEMP) {
		*why = mx->why;
		return SD_TEMP;
	}
	if (mx->status == DNS_NXDOMAIN || a == NULL || aaaa == NULL)
		return SD_NONE;
	if (a->status == DNS_OK || aaaa->status == DNS_OK)
		return SD_OK;
	if (a->status == DNS_TEMP || aaaa->status == DNS_TEMP) {
		*why = a->status == DNS_TEMP ? a->why : aaaa->why;
		return SD_TEMP;
	}
	return SD_NONE;
}

/* Look the domain up: MX first, addresses only when there is no MX. */
static void
lookup(struct session *s, const char *domain)
{
	struct dns *dns = s->svc ? s->svc->dns : NULL;
	struct dns_answer mx, a, aaaa;
	bool need_addr;

	dns_lookup(dns, domain, DNS_T_MX, &s->dns_deadline, &mx);
	need_addr = mx.status == DNS_NODATA;
	if (need_addr) {
		dns_lookup(dns, domain, DNS_T_A, &s->dns_deadline, &a);
		dns_lookup(dns, domain, DNS_T_AAAA, &s->dns_deadline, &aaaa);
	}
	s->sender_domain = sender_domain_classify(&mx,
	    need_addr ? &a : NULL, need_addr ? &aaaa : NULL, &s->sender_domain_why);
	dns_answer_clear(&mx);
	if (need_addr) {
		dns_answer_clear(&a);
		dns_answer_clear(&aaaa);
	}
}

enum check_res
sender_domain_check(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;
	const struct addr *a = &s->sender_addr;

	if (!cfg->sender_domain_check || !s->have_sender ||
	    (a->flags & (ADDR_NULL | ADDR_NO_DOMAIN | ADDR_LITERAL)) ||
	    session_domain_is_local(s, a->domain))
		return CHECK_NEXT;
	if (s->sender_domain == SD_UNKNOWN)
		lookup(s, a->domain);
	switch (s->sender_domain) {
	case SD_OK:
		session_note_pass(v, "sender_domain", "ok");
		return CHECK_NEXT;
	case SD_NULLMX:
		session_refuse(s, v, &cfg->sender_domain_nullmx_reply, "sender_domain", "null MX (%s)",
		    a->domain);
		return CHECK_DONE;
	case SD_NONE:
		session_refuse(s, v, &cfg->sender_domain_none_reply, "sender_domain", "none (%s)",
		    a->domain);
		return CHECK_DONE;
	default:
		session_refuse(s, v, &cfg->sender_domain_temp_reply, "sender_domain", "temp (%s: %s)",
		    a->domain, dns_why_name(s->sender_domain_why));
		if (s->sender_domain_why == DNS_WHY_TIMEOUT)
			s->sender_domain = SD_UNKNOWN; /* try again at the next recipient */
		return CHECK_DONE;
	}
}
