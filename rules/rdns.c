/*
 * rdns.c - the reverse-DNS check (see rdns.h).  The lookups themselves
 * are iprev.c's; this module decides what a result means for the session.
 */
#include "autoconf.h"

#include "decide.h"
#include "rdns.h"
#include "session_priv.h"

void
rdns_connect(struct session *s)
{
	iprev_free(s->iprev);
	s->iprev = NULL;
	s->rdns_known = false;
	if (s->cfg->rdns == RDNS_OFF || !s->have_client || s->svc == NULL)
		return;
	/* NULL (out of memory) is judged as a temporary failure when needed. */
	s->iprev = iprev_start(s->svc->dns, &s->client);
}

bool
rdns_result(struct session *s, struct iprev_result *out)
{
	if (s->cfg->rdns == RDNS_OFF || !s->have_client)
		return false;
	if (!s->rdns_known) {
		iprev_wait(s->iprev, &s->dns_deadline, &s->rdns);
		/* A timeout is not final: a later wait may still see the answer. */
		s->rdns_known = !(s->rdns.klass == IPREV_TEMP && s->rdns.why == DNS_WHY_TIMEOUT);
	}
	*out = s->rdns;
	return true;
}

/* "temp (timeout)" and the like, for the verdict's detail. */
static const char *
why_text(const struct iprev_result *r)
{
	return r->why != DNS_WHY_NONE ? dns_why_name(r->why) : "error";
}

enum check_res
rdns_check(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;
	struct iprev_result r;

	if (cfg->rdns < RDNS_PTR || s->stage != (enum stage)cfg->rdns_stage ||
	    session_identity_exempt(s) || !rdns_result(s, &r))
		return CHECK_NEXT;
	if (cfg->rdns == RDNS_PTR) {
		/* Only a name is required; whether it resolves back is annotation. */
		if (r.ptr == DNS_TEMP) {
			session_refuse(s, v, &cfg->rdns_temp_reply, "rdns", "temp (%s)", why_text(&r));
			return CHECK_DONE;
		}
		if (r.ptr != DNS_OK) {
			session_refuse(s, v, &cfg->rdns_none_reply, "rdns", "none (%s)",
			    dns_status_name(r.ptr));
			return CHECK_DONE;
		}
		session_note_pass(v, "rdns", "ptr %s", r.name[0] ? r.name : "found");
		return CHECK_NEXT;
	}
	switch (r.klass) {
	case IPREV_PASS:
		session_note_pass(v, "rdns", "pass (%s)", r.name);
		return CHECK_NEXT;
	case IPREV_NONE:
		session_refuse(s, v, &cfg->rdns_none_reply, "rdns", "none (%s)", dns_status_name(r.ptr));
		return CHECK_DONE;
	case IPREV_FORGED:
		session_refuse(s, v, &cfg->rdns_forged_reply, "rdns", "forged (%s)", r.name);
		return CHECK_DONE;
	case IPREV_TEMP:
	default:
		session_refuse(s, v, &cfg->rdns_temp_reply, "rdns", "temp (%s)", why_text(&r));
		return CHECK_DONE;
	}
}
