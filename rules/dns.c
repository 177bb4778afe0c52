/*
 * dns.c - the shared libunbound resolver (see dns.h).
 *
 * Threads: libunbound's own background thread resolves (threaded mode,
 * never a forked process in a threaded daemon, LIBRARIES 2); our
 * dispatcher thread waits on ub_fd() and calls ub_process(), which runs
 * the callbacks.  A blocking dns_lookup is a waiter object shared by the
 * asking thread and the callback: two references while the query is in
 * flight, the last one out frees it.  If the asker gives up at its
 * deadline, ub_cancel either stops the callback (then the asker drops the
 * callback's reference too) or loses the race (then the callback drops it).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"
#include "dnscache.h"
#include "strbuf.h"

/* Answers kept in front of libunbound (dnscache.h): a few MiB at most. */
#define DNS_CACHE_SLOTS 4096

struct dns {
	struct ub_ctx *ctx;
	pthread_t thread;
	bool thread_started;
	int wake[2];		/* a byte on wake[1] stops the dispatcher */
	struct dnscache *cache;
};

/* ---- pure helpers ---- */

enum dns_status
dns_classify(int err, int rcode, bool havedata, bool nxdomain, bool bogus, enum dns_why *why)
{
	*why = DNS_WHY_NONE;
	if (err != 0) {
		*why = DNS_WHY_ERROR;
		return DNS_TEMP;
	}
	if (bogus) {
		*why = DNS_WHY_BOGUS;
		return DNS_TEMP;
	}
	if (rcode == 0)
		return havedata ? DNS_OK : DNS_NODATA;
	if (rcode == 3 || nxdomain)
		return DNS_NXDOMAIN;
	/* SERVFAIL (2), REFUSED (5), and anything else the forwarder says. */
	*why = rcode == 2 || rcode == 5 ? DNS_WHY_SERVFAIL : DNS_WHY_ERROR;
	return DNS_TEMP;
}

bool
dns_name_ok(const char *name)
{
	size_t len, label = 0;
	const char *p;

	if (name == NULL || (len = strlen(name)) == 0)
		return false;
	if (name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (p = name; p < name + len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f || ++label > 63)
			return false;
	}
	return label > 0;
}

/*
 * NAME in libunbound's presentation format: every byte that is not a
 * letter, digit, hyphen or underscore is written \DDD, so names from
 * remote input (HELO, SPF macros) can never use the escape syntax.
 */
static bool
presentation_name(const char *name, char *out, size_t size)
{
	struct strbuf sb;
	const char *p;

	strbuf_init(&sb, out, size);
	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			strbuf_addc(&sb, (char)c);
		else
			strbuf_addf(&sb, "\\%03u", c);
	}
	return !sb.truncated;
}

const char *
dns_status_name(enum dns_status st)
{
	static const char *const names[] = {"ok", "nodata", "nxdomain", "temp"};

	return (unsigned)st < 4 ? names[st] : "?";
}

const char *
dns_why_name(enum dns_why why)
{
	static const char *const names[] = {"", "servfail", "bogus", "timeout", "error", "bad name"};

	return (unsigned)why < 6 ? names[why] : "?";
}

void
dns_deadline_in(long ms, struct timespec *out)
{
	clock_gettime(CLOCK_MONOTONIC, out);
	out->tv_sec += ms / 1000;
	out->tv_nsec += (ms % 1000) * 1000000L;
	if (out->tv_nsec >= 1000000000L) {
		out->tv_sec++;
		out->tv_nsec -= 1000000000L;
	}
}

void
dns_answer_clear(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->rr[i].text);
	free(a->rr);
	memset(a, 0, sizeof(*a));
	a->status = DNS_TEMP;
	a->why = DNS_WHY_ERROR;
}

/*
 * The wire-format name at DATA (LEN bytes, uncompressed as libunbound
 * gives it) as lowercase text without the trailing dot.  False for
 * anything malformed or holding bytes a name must not have here.
 */
static bool
wire_name(const unsigned char *data, size_t len, char *out, size_t size)
{
	struct strbuf sb;
	size_t i = 0;

	strbuf_init(&sb, out, size);
	while (i < len && data[i] != 0) {
		size_t n = data[i++], j;

		if (n > 63 || i + n > len)
			return false;
		if (sb.len > 0)
			strbuf_addc(&sb, '.');
		for (j = 0; j < n; j++) {
			unsigned char c = data[i + j];

			if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\' || c == '"')
				return false;
			strbuf_addc(&sb, (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
		}
		i += n;
	}
	return i < len && !sb.truncated;
}

/* The TXT character-strings at DATA concatenated (RFC 7208 3.3). */
static char *
txt_join(const unsigned char *data, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;

	if (out == NULL)
		return NULL;
	while (i < len) {
		size_t n = data[i++];

		if (n > len - i)
			n = len - i; /* a truncated string: keep what is there */
		memcpy(out + o, data + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Parse one record into RR; 0 skipped (malformed), 1 kept, -1 out of memory. */
static int
parse_one(int type, const unsigned char *d, size_t len, struct dns_rr *rr)
{
	char name[CAP_DOMAIN_LEN + 2];

	memset(rr, 0, sizeof(*rr));
	switch (type) {
	case DNS_T_A:
		if (len != 4)
			return 0;
		rr->ip.family = AF_INET;
		memcpy(rr->ip.a, d, 4);
		return 1;
	case DNS_T_AAAA:
		if (len != 16)
			return 0;
		rr->ip.family = AF_INET6;
		memcpy(rr->ip.a, d, 16);
		return 1;
	case DNS_T_MX:
		if (len < 3)
			return 0;
		rr->pref = (unsigned)d[0] << 8 | d[1];
		d += 2;
		len -= 2;
		/* fall through */
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (!wire_name(d, len, name, sizeof(name)))
			return 0;
		rr->len = strlen(name);
		return (rr->text = strdup(name)) != NULL ? 1 : -1;
	case DNS_T_TXT:
		return (rr->text = txt_join(d, len, &rr->len)) != NULL ? 1 : -1;
	default:
		return 0;
	}
}

bool
dns_parse_rdata(int type, char *const *data, const int *len, size_t n, struct dns_answer *out)
{
	size_t i;

	out->type = type;
	out->n = 0;
	if (n == 0)
		return true;
	if ((out->rr = calloc(n, sizeof(*out->rr))) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		int r = len[i] < 0 ? 0 : parse_one(type, (const unsigned char *)data[i], (size_t)len[i],
						  &out->rr[out->n]);

		if (r < 0)
			return false;
		out->n += (size_t)r;
	}
	return true;
}

/* Turn libunbound's result into *OUT (records parsed), freeing R. */
static void
answer_from_result(int err, struct ub_result *r, int type, struct dns_answer *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->type = type;
	if (r == NULL) {
		out->status = dns_classify(err != 0 ? err : -1, 2, false, false, false, &out->why);
		return;
	}
	out->status = dns_classify(err, r->rcode, r->havedata != 0, r->nxdomain != 0, r->bogus != 0,
	    &out->why);
	out->ttl = r->ttl > 0 ? (unsigned)r->ttl : 0;
	if (out->status == DNS_OK) {
		while (r->data[n] != NULL)
			n++;
		if (!dns_parse_rdata(type, r->data, r->len, n, out)) {
			dns_answer_clear(out); /* out of memory: temporary */
		} else if (out->n == 0) {
			out->status = DNS_NODATA; /* only malformed records: none usable */
		}
	}
	ub_resolve_free(r);
}

/* ---- the context and the dispatcher ---- */

static void *
dispatcher(void *arg)
{
	struct dns *dns = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(dns->ctx);
	pfd[0].events = POLLIN;
	pfd[1].fd = dns->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents != 0)
			ub_process(dns->ctx);
	}
	return NULL;
}

struct fwd_ctx {
	struct dns *dns;
	struct diag *d;
	const char *path;
	bool ok;
};

static void
add_forwarder(const char *item, void *arg)
{
	struct fwd_ctx *fc = arg;
	int r;

	if (strcmp(item, "none") == 0 || !fc->ok)
		return;
	if (strcmp(item, "resolv.conf") == 0)
		r = ub_ctx_resolvconf(fc->dns->ctx, NULL);
	else
		r = ub_ctx_set_fwd(fc->dns->ctx, item);
	if (r != 0) {
		diag_error(fc->d, fc->path, 0, "dns_resolvers: %s: %s", item,
		    r == UB_READFILE ? "cannot read /etc/resolv.conf" : ub_strerror(r));
		fc->ok = false;
	}
}

/* Configure the context before its first query (afterwards libunbound refuses). */
static bool
dns_configure(struct dns *dns, const struct config *cfg, struct diag *d)
{
	static const char *const options[][2] = {
		/* A forwarder answers for the site's private and documentation
		 * reverse zones; libunbound's built-in local zones would say
		 * NXDOMAIN first. */
		{"unblock-lan-zones:", "yes"},
		{"insecure-lan-zones:", "yes"},
		/* Library mode keeps 16 sockets for outstanding queries; a busy MX
		 * has more connections than that looking up at once. */
		{"outgoing-range:", "128"},
	};
	struct fwd_ctx fc = {dns, d, cfg->path, true};
	size_t i;
	int r;

	if (cfg->dns_config != NULL && (r = ub_ctx_config(dns->ctx, cfg->dns_config)) != 0) {
		diag_error(d, cfg->path, 0, "dns_config: %s: %s", cfg->dns_config,
		    r == UB_SYNTAX ? "syntax error (see unbound.conf(5))" : ub_strerror(r));
		return false;
	}
	if ((r = ub_ctx_async(dns->ctx, 1)) != 0) {
		diag_error(d, cfg->path, 0, "libunbound: no threads: %s", ub_strerror(r));
		return false;
	}
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if ((r = ub_ctx_set_option(dns->ctx, options[i][0], options[i][1])) != 0) {
			diag_error(d, cfg->path, 0, "libunbound: %s %s: %s", options[i][0],
			    options[i][1], ub_strerror(r));
			return false;
		}
	}
	strset_foreach(cfg->dns_resolvers, add_forwarder, &fc);
	return fc.ok;
}

/* Start the dispatcher with every signal blocked: signals belong to the sigwait threads. */
static bool
start_dispatcher(struct dns *dns)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&dns->thread, NULL, dispatcher, dns);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r == 0;
}

struct dns *
dns_new(const struct config *cfg, struct diag *d)
{
	struct dns *dns = calloc(1, sizeof(*dns));

	if (dns == NULL) {
		diag_error(d, cfg->path, 0, "out of memory");
		return NULL;
	}
	dns->wake[0] = dns->wake[1] = -1;
	if ((dns->cache = dnscache_new(DNS_CACHE_SLOTS)) == NULL) {
		diag_error(d, cfg->path, 0, "out of memory");
		dns_free(dns);
		return NULL;
	}
	if ((dns->ctx = ub_ctx_create()) == NULL) {
		diag_error(d, cfg->path, 0, "libunbound: cannot create a resolver context");
		dns_free(dns);
		return NULL;
	}
	if (!dns_configure(dns, cfg, d)) {
		dns_free(dns);
		return NULL;
	}
	if (pipe(dns->wake) != 0 || fcntl(dns->wake[1], F_SETFL, O_NONBLOCK) != 0 ||
	    !(dns->thread_started = start_dispatcher(dns))) {
		diag_error(d, cfg->path, 0, "cannot start the DNS dispatcher thread: %s",
		    strerror(errno));
		dns_free(dns);
		return NULL;
	}
	return dns;
}

void
dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	if (dns->thread_started) {
		if (write(dns->wake[1], "x", 1) != 1)
			pthread_cancel(dns->thread);
		pthread_join(dns->thread, NULL);
	}
	if (dns->wake[0] >= 0)
		close(dns->wake[0]);
	if (dns->wake[1] >= 0)
		close(dns->wake[1]);
	/* Outstanding queries die without callbacks (libunbound(3) ub_ctx_delete). */
	if (dns->ctx != NULL)
		ub_ctx_delete(dns->ctx);
	dnscache_free(dns->cache);
	free(dns);
}

/* ---- asynchronous queries ---- */

/* In the dispatcher thread: keep the answer, then hand it over. */
static void
ub_callback(void *arg, int err, struct ub_result *result)
{
	struct dns_sub *sub = arg;
	struct dns_answer a;

	answer_from_result(err, result, sub->type, &a);
	dnscache_put(sub->cache, sub->qname, sub->type, &a);
	free(sub->qname);
	sub->qname = NULL;
	sub->done(sub->arg, &a);
}

bool
dns_submit(struct dns *dns, const char *name, int type, struct dns_sub *sub)
{
	char pname[4 * 256];

	sub->type = type;
	sub->id = 0;
	sub->qname = NULL;
	if (dns == NULL || !dns_name_ok(name) || !presentation_name(name, pname, sizeof(pname)))
		return false;
	sub->cache = dns->cache;
	if ((sub->qname = strdup(name)) == NULL)
		return false;
	if (ub_resolve_async(dns->ctx, pname, type, 1 /* IN */, sub, ub_callback, &sub->id) != 0) {
		free(sub->qname);
		sub->qname = NULL;
		return false;
	}
	return true;
}

bool
dns_cancel(struct dns *dns, struct dns_sub *sub)
{
	if (ub_cancel(dns->ctx, sub->id) != UB_NOERROR)
		return false;
	free(sub->qname); /* the callback that would have freed it will not run */
	sub->qname = NULL;
	return true;
}

bool
dns_cached(struct dns *dns, const char *name, int type, struct dns_answer *out)
{
	return dns != NULL && dnscache_get(dns->cache, name, type, out);
}

/* ---- blocking lookups with a deadline ---- */

struct waiter {
	struct dns_sub sub;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;		/* asker + callback while in flight */
	bool done;
	struct dns_answer ans;
};

static void
waiter_unref(struct waiter *w)
{
	bool last;

	pthread_mutex_lock(&w->mu);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (!last)
		return;
	dns_answer_clear(&w->ans);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void
waiter_done(void *arg, struct dns_answer *a)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->ans = *a;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	waiter_unref(w);
}

static struct waiter *
waiter_new(void)
{
	struct waiter *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (w == NULL)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&w->mu, NULL);
	w->sub.done = waiter_done;
	w->sub.arg = w;
	w->refs = 2;
	return w;
}

/* Set *OUT to an empty answer of STATUS/WHY. */
static void
answer_set(struct dns_answer *out, int type, enum dns_status status, enum dns_why why)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->status = status;
	out->why = why;
}

void
dns_lookup(struct dns *dns, const char *name, int type, const struct timespec *deadline,
    struct dns_answer *out)
{
	struct waiter *w;

	if (!dns_name_ok(name)) {
		answer_set(out, type, DNS_NXDOMAIN, DNS_WHY_BADNAME);
		return;
	}
	if (dns_cached(dns, name, type, out))
		return;
	if (dns == NULL || (w = waiter_new()) == NULL) {
		answer_set(out, type, DNS_TEMP, DNS_WHY_ERROR);
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (!dns_submit(dns, name, type, &w->sub)) {
		w->refs--; /* no callback will come */
		answer_set(&w->ans, type, DNS_TEMP, DNS_WHY_ERROR);
		w->done = true;
	}
	while (!w->done && pthread_cond_timedwait(&w->cv, &w->mu, deadline) != ETIMEDOUT)
		;
	if (w->done) {
		*out = w->ans; /* the records move to the caller */
		memset(&w->ans, 0, sizeof(w->ans));
	} else {
		answer_set(out, type, DNS_TEMP, DNS_WHY_TIMEOUT);
		if (dns_cancel(dns, &w->sub))
			w->refs--; /* the callback will not run */
	}
	pthread_mutex_unlock(&w->mu);
	waiter_unref(w);
}
