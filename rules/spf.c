/*
 * spf.c - SPF through libspf2 on the shared resolver (see spf.h for why
 * the DNS layer is ours and what it adds to libspf2).
 *
 * Layout: the DNS layer (lookup and get_spf hooks, the evaluation budget),
 * the evaluation (spf_evaluate), the Received-SPF field, the RCPT check.
 */
#include "autoconf.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "dns.h"
#include "log.h"
#include "session_priv.h"
#include "spf.h"
#include "spfrec.h"
#include "strbuf.h"

struct spf_server {
	SPF_server_t *lib;
	SPF_dns_server_t *layer;
	struct dns *dns;
};

/* Names an MX or PTR answer asks us to look up next (not terms, RFC 7208 4.6.4). */
#define SPF_PENDING 10

/* The budget of the evaluation running in this thread (spf.h: why thread-local). */
struct budget {
	struct spf_server *srv;
	const struct timespec *deadline;
	int family;		/* of the client: AF_INET or AF_INET6 */
	unsigned terms, voids, queries;
	bool over_terms, over_voids, over_queries, over_mx;
	enum dns_why temp_why;	/* last temporary failure */
	const char *syntax;	/* why the last record fetched was refused */
	char pending[SPF_PENDING][CAP_DOMAIN_LEN + 1];
	size_t npending, next;
	bool pending_ptr;	/* the pending names came from a PTR answer */
};

static __thread struct budget *current;

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = {"none", "neutral", "pass", "fail", "softfail",
		"temperror", "permerror"};

	return (unsigned)r < 7 ? names[r] : "?";
}

/* ---- the DNS layer ---- */

/* Count one DNS-querying term; false when it is over the limit. */
static bool
budget_term(struct budget *b)
{
	if (++b->terms > SPF_MAX_TERMS)
		b->over_terms = true;
	return !b->over_terms;
}

enum lookup_kind { LK_TERM, LK_EXP, LK_MX_ADDR, LK_PTR_ADDR };

/* Is a lookup of NAME/TYPE a term, an exp= text, or the address lookup of an MX or PTR name? */
static enum lookup_kind
lookup_kind(struct budget *b, const char *name, int type)
{
	if (type == DNS_T_TXT)
		return LK_EXP; /* SPF records come through get_spf */
	if (type == DNS_T_A || type == DNS_T_AAAA) {
		if (b->next < b->npending && strcasecmp(name, b->pending[b->next]) == 0) {
			b->next++;
			return b->pending_ptr ? LK_PTR_ADDR : LK_MX_ADDR;
		}
		b->npending = b->next = 0;
	}
	return LK_TERM;
}

/* One query under the budget; TERM: its void answers count (RFC 7208 4.6.4). */
static void
budget_lookup(struct budget *b, const char *name, int type, bool term, struct dns_answer *a)
{
	if (++b->queries > SPF_MAX_QUERIES) {
		b->over_queries = true;
		memset(a, 0, sizeof(*a));
		a->type = type;
		a->status = DNS_NXDOMAIN;
		return;
	}
	dns_lookup(b->srv->dns, name, type, b->deadline, a);
	if (a->status == DNS_TEMP)
		b->temp_why = a->why;
	if (term && (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA) && ++b->voids > SPF_MAX_VOIDS)
		b->over_voids = true;
}

/* Remember the names of an MX or PTR answer: their address lookups are part of that term. */
static void
budget_pending(struct budget *b, const struct dns_answer *a)
{
	size_t i;

	b->npending = b->next = 0;
	b->pending_ptr = a->type == DNS_T_PTR;
	for (i = 0; i < a->n && b->npending < SPF_PENDING; i++)
		str_copy(b->pending[b->npending++], sizeof(b->pending[0]), a->rr[i].text);
}

/* Our answer as libspf2's SPF_dns_rr_t (never NULL unless out of memory). */
static SPF_dns_rr_t *
to_spf_rr(SPF_dns_server_t *layer, const char *domain, ns_type type, const struct dns_answer *a)
{
	static const int herrno[] = {[DNS_OK] = NETDB_SUCCESS, [DNS_NODATA] = NO_DATA,
		[DNS_NXDOMAIN] = HOST_NOT_FOUND, [DNS_TEMP] = TRY_AGAIN};
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(layer, domain, type, (int)a->ttl, herrno[a->status]);
	size_t i, n = a->n;

	if (rr == NULL || a->status != DNS_OK)
		return rr;
	if (type == ns_t_ptr && n > SPF_PENDING)
		n = SPF_PENDING; /* RFC 7208 4.6.4: names beyond the 10th are ignored */
	for (i = 0; i < n; i++) {
		const struct dns_rr *r = &a->rr[i];
		size_t size = type == ns_t_a ? sizeof(struct in_addr)
			      : type == ns_t_aaaa ? sizeof(struct in6_addr) : r->len + 1;

		if (SPF_dns_rr_buf_realloc(rr, (int)i, size) != SPF_E_SUCCESS)
			break;
		if (type == ns_t_a)
			memcpy(&rr->rr[i]->a, r->ip.a, 4);
		else if (type == ns_t_aaaa)
			memcpy(&rr->rr[i]->aaaa, r->ip.a, 16);
		else
			memcpy(rr->rr[i]->txt, r->text, r->len + 1); /* txt, mx, ptr share the union */
		rr->num_rr = (int)i + 1;
	}
	return rr;
}

/*
 * Debian's libspf2 1.2.10 expands a literal space in an explanation into
 * "%" and stops expanding macros after it ("a%{i}%b" for "a %{i} b");
 * the macro "%_" (RFC 7208 7.1: a space) works.  Rewrite the record so.
 * False when out of memory.
 */
static bool
exp_spaces(struct dns_rr *r)
{
	size_t i, n = 0;
	char *out, *o;

	for (i = 0; i < r->len; i++)
		n += r->text[i] == ' ';
	if (n == 0)
		return true;
	if ((out = malloc(r->len + n + 1)) == NULL)
		return false;
	for (o = out, i = 0; i < r->len; i++) {
		if (r->text[i] == ' ') {
			*o++ = '%';
			*o++ = '_';
		} else {
			*o++ = r->text[i];
		}
	}
	*o = '\0';
	free(r->text);
	r->text = out;
	r->len = (size_t)(o - out);
	return true;
}

/*
 * RFC 7208 4.8: a name longer than 253 bytes loses labels on the left
 * until it fits.  Returns a pointer into NAME.
 */
static const char *
truncate_left(const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	while (len > 253) {
		const char *dot = strchr(name, '.');

		if (dot == NULL)
			break;
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	return name;
}

/* Adjust an answer to what RFC 7208 wants from the kind of lookup it was. */
static void
spf_adjust(struct budget *b, enum lookup_kind kind, struct dns_answer *a)
{
	/* exp=: exactly one record, a valid explanation (RFC 7208 6.2), else the default. */
	if (kind == LK_EXP && a->status == DNS_OK &&
	    (a->n != 1 || !spfrec_explanation_ok(a->rr[0].text, a->rr[0].len) || !exp_spaces(&a->rr[0])))
		a->status = DNS_NODATA;
	/* ptr: a name whose address lookup fails is skipped (RFC 7208 5.5). */
	if (kind == LK_PTR_ADDR && a->status == DNS_TEMP)
		a->status = DNS_NODATA;
	/* mx: more than 10 MX records is a permerror (RFC 7208 4.6.4), before any is tried. */
	if (a->type == DNS_T_MX && a->status == DNS_OK && a->n > SPF_PENDING)
		b->over_mx = true;
}

/* libspf2's lookup hook: every query of mechanisms, macros and exp=. */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct budget *b = current;
	struct dns_answer a;
	enum lookup_kind kind;
	SPF_dns_rr_t *rr;

	(void)should_cache;
	if (b == NULL || (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx &&
			     type != ns_t_ptr && type != ns_t_txt))
		return SPF_dns_rr_new_init(layer, domain, type, 0, b == NULL ? TRY_AGAIN : NO_DATA);
	kind = lookup_kind(b, domain, (int)type);
	if (kind == LK_TERM && !budget_term(b)) {
		/* Over the limit: the result will be permerror; stop asking. */
		memset(&a, 0, sizeof(a));
		a.type = (int)type;
		a.status = DNS_NXDOMAIN;
	} else {
		budget_lookup(b, truncate_left(domain), (int)type, kind == LK_TERM, &a);
	}
	spf_adjust(b, kind, &a);
	if (a.status == DNS_OK && (type == ns_t_mx || type == ns_t_ptr))
		budget_pending(b, &a);
	rr = to_spf_rr(layer, domain, type, &a);
	dns_answer_clear(&a);
	return rr;
}

/* Does TXT start an SPF record: "v=spf1" alone or followed by a space (RFC 7208 4.5)? */
static bool
is_spf1(const struct dns_rr *r)
{
	return r->len >= 6 && strncasecmp(r->text, "v=spf1", 6) == 0 &&
	       (r->len == 6 || r->text[6] == ' ');
}

/*
 * Fetch and compile the SPF record of DOMAIN (RFC 7208 4.4, 4.5).  TERM:
 * an include or redirect (counted), not the initial record.  Returns
 * libspf2's error code; SPF_E_NOT_SPF is "none".
 */
static SPF_errcode_t
fetch_record(struct budget *b, const char *domain, bool term, SPF_response_t *resp,
    SPF_record_t **recp)
{
	struct dns_answer a;
	const struct dns_rr *found = NULL;
	size_t i, nfound = 0;
	SPF_errcode_t err;
	char *text;

	*recp = NULL;
	if (term && !budget_term(b))
		return SPF_response_add_error(resp, SPF_E_BIG_DNS, "more than %d DNS lookups",
		    SPF_MAX_TERMS);
	budget_lookup(b, truncate_left(domain), DNS_T_TXT, term, &a);
	if (a.status == DNS_TEMP) {
		dns_answer_clear(&a);
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR, "temporary DNS failure");
	}
	for (i = 0; i < a.n; i++) {
		if (is_spf1(&a.rr[i])) {
			nfound++;
			found = &a.rr[i];
		}
	}
	if (nfound != 1) {
		dns_answer_clear(&a);
		if (nfound > 1)
			return SPF_response_add_error(resp, SPF_E_MULTIPLE_RECORDS,
			    "more than one SPF record");
		return SPF_response_add_error(resp, SPF_E_NOT_SPF, "no SPF record");
	}
	if ((text = malloc(2 * found->len + 16)) == NULL) {
		dns_answer_clear(&a);
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR, "out of memory");
	}
	if (!spfrec_prepare(found->text, found->len, b->family, text, 2 * found->len + 16,
		&b->syntax)) {
		free(text);
		dns_answer_clear(&a);
		return SPF_response_add_error(resp, SPF_E_SYNTAX, "%s", b->syntax);
	}
	err = SPF_record_compile(b->srv->lib, resp, recp, text);
	free(text);
	dns_answer_clear(&a);
	if (err != SPF_E_SUCCESS && *recp != NULL) {
		SPF_record_free(*recp);
		*recp = NULL;
	}
	return err;
}

/* libspf2's get_spf hook: the record of an include: or redirect= target. */
static SPF_errcode_t
layer_get_spf(SPF_server_t *lib, SPF_request_t *req, SPF_response_t *resp, SPF_record_t **recp)
{
	(void)lib;
	if (current == NULL || req->cur_dom == NULL)
		return SPF_response_add_error(resp, SPF_E_DNS_ERROR, "no evaluation in progress");
	return fetch_record(current, req->cur_dom, true, resp, recp);
}

/* ---- the server ---- */

/* libspf2's fatal errors (a NULL argument, out of memory in its setup): it aborts anyway. */
static void __attribute__((noreturn))
spf_log_error(const char *file, int line, const char *msg)
{
	log_msg(LOG_CRIT, "libspf2: %s:%d: %s", file ? file : "?", line, msg);
	abort();
}

static void
spf_log_debug(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	log_msg(LOG_DEBUG, "libspf2: %s", msg);
}

struct spf_server *
spf_server_new(struct dns *dns, const char *receiver, struct diag *d, const char *cfgpath)
{
	struct spf_server *srv = calloc(1, sizeof(*srv));
	SPF_response_t *resp = NULL;

	/* Before any thread runs SPF: the handlers are process-wide. */
	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_debug;
	SPF_info_handler = spf_log_debug;
	SPF_debug_handler = NULL;
	if (srv == NULL || (srv->layer = calloc(1, sizeof(*srv->layer))) == NULL)
		goto oom;
	srv->dns = dns;
	srv->layer->lookup = layer_lookup;
	srv->layer->get_spf = layer_get_spf;
	srv->layer->name = "relayguard";
	srv->layer->hook = srv;
	if ((srv->lib = SPF_server_new_dns(srv->layer, 0)) == NULL)
		goto oom;
	SPF_server_set_rec_dom(srv->lib, receiver);
	/* Used when the domain publishes no exp= (RFC 7208 6.2); libspf2's own points to a dead site. */
	SPF_server_set_explanation(srv->lib,
	    "%{c}%_is%_not%_one%_of%_the%_designated%_mail%_servers%_of%_%{o}", &resp);
	SPF_response_free(resp);
	return srv;
oom:
	diag_error(d, cfgpath, 0, "out of memory creating the SPF server");
	spf_server_free(srv);
	return NULL;
}

void
spf_server_free(struct spf_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->lib != NULL)
		SPF_server_free(srv->lib); /* leaves our layer alone: its destroy hook is NULL */
	free(srv->layer);
	free(srv);
}

/* ---- the evaluation ---- */

/* RFC 7208 4.3: a domain check_host() can work on (else "none"). */
static bool
identity_ok(const char *domain)
{
	const char *dot = strchr(domain, '.');

	return domain_is_valid(domain) && dot != NULL && dot[1] != '\0';
}

static enum spf_result
map_result(const SPF_response_t *resp)
{
	switch (resp->result) {
	case SPF_RESULT_NEUTRAL: return SPF_R_NEUTRAL;
	case SPF_RESULT_PASS: return SPF_R_PASS;
	case SPF_RESULT_FAIL: return SPF_R_FAIL;
	case SPF_RESULT_SOFTFAIL: return SPF_R_SOFTFAIL;
	case SPF_RESULT_NONE: return SPF_R_NONE;
	case SPF_RESULT_TEMPERROR: return SPF_R_TEMPERROR;
	case SPF_RESULT_PERMERROR: return SPF_R_PERMERROR;
	default:
		/* "invalid": libspf2 had no result to give (LIBRARIES 3). */
		return resp->err == SPF_E_DNS_ERROR ? SPF_R_TEMPERROR : SPF_R_PERMERROR;
	}
}

/* A request for CLIENT, HELO, SENDER; NULL when out of memory. */
static SPF_request_t *
make_request(struct spf_server *srv, const struct ipaddr *client, const char *helo,
    const char *sender)
{
	SPF_request_t *req = SPF_request_new(srv->lib);
	struct in_addr a4;
	struct in6_addr a6;

	if (req == NULL)
		return NULL;
	if (client->family == AF_INET) {
		memcpy(&a4, client->a, 4);
		SPF_request_set_ipv4(req, a4);
	} else {
		memcpy(&a6, client->a, 16);
		SPF_request_set_ipv6(req, a6);
	}
	/* Never NULL to libspf2, and HELO first (LIBRARIES 3). */
	if ((helo != NULL && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    SPF_request_set_env_from(req, sender) != SPF_E_SUCCESS || req->env_from_dp == NULL) {
		SPF_request_free(req);
		return NULL;
	}
	req->cur_dom = req->env_from_dp;
	return req;
}

/*
 * Run the record of the request's domain: what SPF_request_query_mailfrom
 * does, minus its "pass" for loopback clients.
 */
static enum spf_result
run(struct budget *b, SPF_request_t *req, SPF_response_t *resp)
{
	SPF_record_t *rec;
	SPF_errcode_t err = fetch_record(b, req->cur_dom, false, resp, &rec);

	if (err == SPF_E_DNS_ERROR)
		return SPF_R_TEMPERROR;
	if (err == SPF_E_NOT_SPF)
		return SPF_R_NONE;
	if (err != SPF_E_SUCCESS) {
		resp->err = err;
		return SPF_R_PERMERROR; /* several records, or a syntax error (RFC 7208 4.5, 4.6) */
	}
	resp->spf_record_exp = rec;
	SPF_record_interpret(rec, req, resp, 0);
	SPF_record_free(rec);
	return map_result(resp);
}

/* Why a temperror or permerror happened, for the header and the log. */
static void
describe(struct spf_outcome *out, const struct budget *b, const SPF_response_t *resp)
{
	if (out->result == SPF_R_PERMERROR && b->over_terms)
		snprintf(out->problem, sizeof(out->problem), "more than %d DNS lookups", SPF_MAX_TERMS);
	else if (out->result == SPF_R_PERMERROR && b->over_voids)
		snprintf(out->problem, sizeof(out->problem), "more than %d void lookups", SPF_MAX_VOIDS);
	else if (out->result == SPF_R_PERMERROR && b->over_queries)
		snprintf(out->problem, sizeof(out->problem), "more than %d DNS queries", SPF_MAX_QUERIES);
	else if (out->result == SPF_R_PERMERROR && b->over_mx)
		snprintf(out->problem, sizeof(out->problem), "more than %d MX records", SPF_PENDING);
	else if (out->result == SPF_R_PERMERROR && b->syntax != NULL)
		snprintf(out->problem, sizeof(out->problem), "record %s", b->syntax);
	else if (out->result == SPF_R_PERMERROR)
		str_copy(out->problem, sizeof(out->problem), SPF_strerror(resp ? resp->err : SPF_E_SYNTAX));
	else if (out->result == SPF_R_TEMPERROR)
		snprintf(out->problem, sizeof(out->problem), "DNS %s",
		    b->temp_why != DNS_WHY_NONE ? dns_why_name(b->temp_why) : "error");
	else if (out->result == SPF_R_NONE)
		str_copy(out->problem, sizeof(out->problem), "no SPF record");
}

void
spf_evaluate(struct spf_server *srv, const struct ipaddr *client, const char *helo,
    const char *sender, const struct timespec *deadline, struct spf_outcome *out)
{
	struct budget b = {.srv = srv, .deadline = deadline, .family = client->family};
	const char *at = strrchr(sender, '@');
	SPF_request_t *req;
	SPF_response_t *resp;

	memset(out, 0, sizeof(*out));
	out->helo_identity = *sender == '\0';
	str_lower_copy(out->domain, sizeof(out->domain),
	    out->helo_identity ? (helo ? helo : "") : at ? at + 1 : sender);
	if (!identity_ok(out->domain)) {
		out->result = SPF_R_NONE; /* RFC 7208 4.3 */
		str_copy(out->problem, sizeof(out->problem), "no checkable domain");
		return;
	}
	if (srv == NULL || (req = make_request(srv, client, helo, sender)) == NULL) {
		out->result = SPF_R_TEMPERROR;
		str_copy(out->problem, sizeof(out->problem), "out of memory");
		return;
	}
	if ((resp = SPF_response_new(req)) == NULL) {
		SPF_request_free(req);
		out->result = SPF_R_TEMPERROR;
		str_copy(out->problem, sizeof(out->problem), "out of memory");
		return;
	}
	current = &b;
	out->result = run(&b, req, resp);
	current = NULL;
	/* A limit passed during the evaluation decides, whatever came after (RFC 7208 4.6.4). */
	if (b.over_terms || b.over_voids || b.over_queries || b.over_mx)
		out->result = SPF_R_PERMERROR;
	describe(out, &b, resp);
	if ((out->result == SPF_R_FAIL || out->result == SPF_R_SOFTFAIL) &&
	    SPF_response_get_explanation(resp) != NULL)
		str_copy(out->explanation, sizeof(out->explanation), SPF_response_get_explanation(resp));
	out->terms = b.terms;
	out->voids = b.voids;
	out->queries = b.queries;
	SPF_response_free(resp);
	SPF_request_free(req);
}

/* ---- Received-SPF (RFC 7208 9.1) ---- */

/* Append TEXT as a quoted-string (RFC 5322 3.2.4), made printable. */
static void
add_quoted(struct strbuf *sb, const char *text)
{
	strbuf_addc(sb, '"');
	for (; *text != '\0'; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\')
			strbuf_addc(sb, '\\');
		strbuf_addc(sb, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	strbuf_addc(sb, '"');
}

/* Append one " key=value;" pair. */
static void
add_pair(struct strbuf *sb, const char *key, const char *value, bool quote)
{
	strbuf_addf(sb, " %s=", key);
	if (quote)
		add_quoted(sb, value);
	else
		strbuf_add(sb, value);
	strbuf_addc(sb, ';');
}

/* The human-readable comment of the result (RFC 7208 9.1 examples). */
static void
add_comment(struct strbuf *sb, const struct spf_outcome *o, const char *receiver, const char *ip)
{
	const char *d = o->domain[0] ? o->domain : "unknown";

	strbuf_addf(sb, " (%s: ", receiver);
	switch (o->result) {
	case SPF_R_PASS: strbuf_addf(sb, "domain of %s designates %s as permitted sender", d, ip); break;
	case SPF_R_FAIL:
	case SPF_R_SOFTFAIL:
		strbuf_addf(sb, "domain of %s does not designate %s as permitted sender", d, ip);
		break;
	case SPF_R_NEUTRAL:
		strbuf_addf(sb, "%s is neither permitted nor denied by domain of %s", ip, d);
		break;
	case SPF_R_NONE: strbuf_addf(sb, "%s: %s", d, o->problem); break;
	case SPF_R_TEMPERROR: strbuf_addf(sb, "temporary error checking %s: %s", d, o->problem); break;
	case SPF_R_PERMERROR:
		strbuf_addf(sb, "permanent error in the SPF record of %s: %s", d, o->problem);
		break;
	}
	strbuf_addc(sb, ')');
}

void
spf_received_value(const struct spf_outcome *o, const char *receiver, const char *client_addr,
    const char *helo, const char *sender, char *buf, size_t size)
{
	struct strbuf sb;
	const char *ip = client_addr ? client_addr : "unknown";

	strbuf_init(&sb, buf, size);
	strbuf_add(&sb, spf_result_name(o->result));
	add_comment(&sb, o, receiver, ip);
	add_pair(&sb, "client-ip", ip, strchr(ip, ':') != NULL);
	if (sender != NULL)
		add_pair(&sb, "envelope-from", sender, true);
	if (helo != NULL)
		add_pair(&sb, "helo", helo, !domain_is_valid(helo));
	add_pair(&sb, "receiver", receiver, false);
	add_pair(&sb, "identity", o->helo_identity ? "helo" : "mailfrom", false);
}

/* ---- the check ---- */

const struct spf_outcome *
spf_session(struct session *s)
{
	char sender[CAP_LOCALPART_LEN + CAP_DOMAIN_LEN + 4];
	const struct addr *a = &s->sender_addr;

	if (s->cfg->spf == SPF_OFF || !s->have_client || !s->have_sender || s->svc == NULL ||
	    session_identity_exempt(s))
		return NULL;
	if (!s->spf_done) {
		if (a->flags & ADDR_NULL)
			sender[0] = '\0';
		else
			snprintf(sender, sizeof(sender), (a->flags & ADDR_LITERAL) ? "%s@[%s]" : "%s@%s",
			    a->local, a->domain);
		spf_evaluate(s->svc->spf, &s->client, s->have_helo ? s->helo : NULL, sender,
		    &s->dns_deadline, &s->spf);
		s->spf_done = true;
	}
	return &s->spf;
}

/* Refuse with T, or with T turned 4xx when ACTION says tempfail. */
static enum check_res
spf_act(struct session *s, struct verdict *v, enum spf_action action, const struct reply_tmpl *t,
    const struct spf_outcome *o)
{
	struct reply_tmpl soft = *t;

	if (action == SPF_ACT_ACCEPT) {
		session_note_pass(v, "spf", "%s", spf_result_name(o->result));
		return CHECK_NEXT;
	}
	if (action == SPF_ACT_TEMPFAIL) {
		soft.code[0] = '4';
		soft.xcode[0] = '4';
	}
	session_refuse(s, v, &soft, "spf", "%s (%s%s%s)", spf_result_name(o->result), o->domain,
	    o->problem[0] ? ": " : "", o->problem);
	return CHECK_DONE;
}

enum check_res
spf_check(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;
	const struct spf_outcome *o;

	if (cfg->spf != SPF_ENFORCE || (o = spf_session(s)) == NULL)
		return CHECK_NEXT;
	switch (o->result) {
	case SPF_R_FAIL:
		session_refuse(s, v, &cfg->spf_fail_reply, "spf", "fail (%s)", o->domain);
		return CHECK_DONE;
	case SPF_R_TEMPERROR:
		session_refuse(s, v, &cfg->spf_temperror_reply, "spf", "temperror (%s: %s)", o->domain,
		    o->problem);
		return CHECK_DONE;
	case SPF_R_SOFTFAIL:
		return spf_act(s, v, cfg->spf_softfail_action, &cfg->spf_softfail_reply, o);
	case SPF_R_PERMERROR:
		return spf_act(s, v, cfg->spf_permerror_action, &cfg->spf_permerror_reply, o);
	default:
		session_note_pass(v, "spf", "%s", spf_result_name(o->result));
		return CHECK_NEXT;
	}
}
