/*
 * store.c - the counter-store front end (see store.h): argument checks,
 * latency statistics, the GCRA arithmetic every back end shares, and the
 * parser of the store key.
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "stats.h"
#include "store_priv.h"
#include "strbuf.h"

long
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long
store_gcra(long tat_us, unsigned long limit, long window_ms, unsigned cost, long now_ms,
    struct store_rate *out)
{
	long now = now_ms * 1000, window = window_ms * 1000;
	long interval = limit ? window / (long)limit : window; /* time one event "costs" */
	long tat = tat_us > now ? tat_us : now, next;

	if (interval <= 0)
		interval = 1;
	next = tat + interval * (long)cost;
	memset(out, 0, sizeof(*out));
	if (limit == 0 || next - window > now) {
		out->allowed = false;
		out->used = (unsigned long)((tat - now + interval - 1) / interval);
		out->retry_ms = limit == 0 ? window_ms : (next - window - now + 999) / 1000;
		return tat_us;
	}
	out->allowed = true;
	out->used = (unsigned long)((next - now + interval - 1) / interval);
	return next;
}

static bool
key_ok(const char *key)
{
	return key != NULL && *key != '\0' && strlen(key) <= STORE_KEY_MAX;
}

/* Time one back-end call for the statistics. */
#define TIMED(call)                                                                      \
	do {                                                                             \
		struct timespec t0, t1;                                                  \
		clock_gettime(CLOCK_MONOTONIC, &t0);                                     \
		res = (call);                                                            \
		clock_gettime(CLOCK_MONOTONIC, &t1);                                     \
		stats_latency(LAT_STORE, (double)(t1.tv_sec - t0.tv_sec) +               \
					     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);   \
	} while (0)

enum store_res
store_rate_hit(struct store *st, const char *key, unsigned long limit, long window_ms,
    unsigned cost, long now_ms, struct store_rate *out)
{
	enum store_res res;

	memset(out, 0, sizeof(*out));
	if (!key_ok(key) || window_ms <= 0)
		return STORE_UNAVAILABLE;
	TIMED(st->ops->rate(st, key, limit, window_ms, cost, now_ms, true, out));
	return res;
}

enum store_res
store_rate_peek(struct store *st, const char *key, unsigned long limit, long window_ms,
    long now_ms, struct store_rate *out)
{
	enum store_res res;

	memset(out, 0, sizeof(*out));
	if (!key_ok(key) || window_ms <= 0)
		return STORE_UNAVAILABLE;
	TIMED(st->ops->rate(st, key, limit, window_ms, 1, now_ms, false, out));
	return res;
}

enum store_res
store_gauge_add(struct store *st, const char *key, long delta, long ttl_ms, long now_ms,
    long *value)
{
	enum store_res res;

	*value = 0;
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->gauge_add(st, key, delta, ttl_ms, now_ms, value));
	return res;
}

enum store_res
store_note_first(struct store *st, const char *key, const char *value, long ttl_ms, long now_ms,
    char *out, size_t size)
{
	enum store_res res;

	if (size > 0)
		out[0] = '\0';
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->note_first(st, key, value, ttl_ms, now_ms, out, size));
	return res;
}

enum store_res
store_note_get(struct store *st, const char *key, long now_ms, char *out, size_t size, bool *found)
{
	enum store_res res;

	*found = false;
	if (size > 0)
		out[0] = '\0';
	if (!key_ok(key))
		return STORE_UNAVAILABLE;
	TIMED(st->ops->note_get(st, key, now_ms, out, size, found));
	return res;
}

size_t
store_count(struct store *st)
{
	return st ? st->ops->count(st) : 0;
}

void
store_free(struct store *st)
{
	if (st != NULL)
		st->ops->destroy(st);
}

/* ---- the store key ---- */

/* A decimal number of 1 to 5 digits in [MIN, MAX] from *P, advancing it. */
static bool
url_number(const char **p, long min, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)**p))
		return false;
	n = strtol(*p, &end, 10);
	if (end - *p > 5 || n < min || n > max)
		return false;
	*p = end;
	*out = n;
	return true;
}

/* [[USER]:PASSWORD@] at *P, if there is an @ before the host part ends. */
static bool
url_userinfo(const char **p, struct store_url *out, char *err, size_t errsize)
{
	const char *at = strchr(*p, '@'), *colon;

	if (at == NULL)
		return true;
	colon = memchr(*p, ':', (size_t)(at - *p));
	if (colon == NULL) {
		snprintf(err, errsize, "expected [USER]:PASSWORD@ before the host");
		return false;
	}
	if ((size_t)(colon - *p) >= sizeof(out->user) ||
	    (size_t)(at - colon - 1) >= sizeof(out->password)) {
		snprintf(err, errsize, "user or password too long");
		return false;
	}
	memcpy(out->user, *p, (size_t)(colon - *p));
	out->user[colon - *p] = '\0';
	memcpy(out->password, colon + 1, (size_t)(at - colon - 1));
	out->password[at - colon - 1] = '\0';
	*p = at + 1;
	return true;
}

/* HOST or [IPV6] at *P. */
static bool
url_host(const char **p, struct store_url *out, char *err, size_t errsize)
{
	const char *h = *p, *e;
	size_t n;

	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL) {
			snprintf(err, errsize, "missing ] after an IPv6 address");
			return false;
		}
		h++;
		*p = e + 1;
	} else {
		for (e = h; *e != '\0' && *e != ':' && *e != '/'; e++)
			if (!isalnum((unsigned char)*e) && *e != '.' && *e != '-' && *e != '_')
				break;
		*p = e;
	}
	n = (size_t)(e - h);
	if (n == 0 || n >= sizeof(out->host)) {
		snprintf(err, errsize, "missing or over-long host");
		return false;
	}
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	return true;
}

bool
store_url_parse(const char *text, struct store_url *out, char *err, size_t errsize)
{
	const char *p = text;
	long n;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strcmp(text, "memory") == 0)
		return true;
	if (strncasecmp(text, "redis://", 8) != 0) {
		snprintf(err, errsize, "expected memory or redis://HOST[:PORT][/DB]");
		return false;
	}
	out->redis = true;
	p += 8;
	if (!url_userinfo(&p, out, err, errsize) || !url_host(&p, out, err, errsize))
		return false;
	if (*p == ':') {
		p++;
		if (!url_number(&p, 1, 65535, &n)) {
			snprintf(err, errsize, "bad port (1-65535)");
			return false;
		}
		out->port = (int)n;
	}
	if (*p == '/' && p[1] != '\0') {
		p++;
		if (!url_number(&p, 0, 9999, &n)) {
			snprintf(err, errsize, "bad database number");
			return false;
		}
		out->db = (int)n;
	} else if (*p == '/') {
		p++;
	}
	if (*p != '\0') {
		snprintf(err, errsize, "unexpected \"%.20s\" after the address", p);
		return false;
	}
	return true;
}

void
store_url_format(const struct store_url *url, char *buf, size_t size)
{
	if (!url->redis)
		snprintf(buf, size, "memory");
	else if (strchr(url->host, ':') != NULL)
		snprintf(buf, size, "redis://[%s]:%d/%d", url->host, url->port, url->db);
	else
		snprintf(buf, size, "redis://%s:%d/%d", url->host, url->port, url->db);
}

#ifndef HAVE_HIREDIS
struct store *
store_redis_new(const struct store_url *url, const struct store_redis_opts *opts)
{
	(void)url;
	(void)opts;
	return NULL;
}
#endif
