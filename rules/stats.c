/*
 * stats.c - counters and histograms (see stats.h).
 *
 * Decision counters are a fixed array of atomics indexed by stage and
 * action.  Deciders (check names, rule ids) are an open-addressing table
 * under one mutex, bounded at MAX_DECIDERS names: past that, new names are
 * counted under "other" so a flood of distinct rule ids cannot grow memory.
 * Histograms use fixed buckets in seconds, as Prometheus expects.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "stats.h"

#define NACTIONS (ACT_QUARANTINE + 1)
#define MAX_DECIDERS 4096

static atomic_ulong decisions[STAGE_COUNT][NACTIONS][2]; /* [.][.][monitored] */
static atomic_ulong reloads_ok, reloads_failed, generation;
static atomic_long sessions;

static const double bucket_le[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5};
#define NBUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))
struct histogram {
	atomic_ulong bucket[NBUCKETS]; /* non-cumulative; summed when printed */
	atomic_ulong count;
	atomic_ulong sum_us;
};
static struct histogram latency[LAT_COUNT];
static const char *const latency_name[LAT_COUNT] = {"dns_lookup", "store_op"};

struct decider {
	char *name;
	unsigned long count[NACTIONS];
};
static pthread_mutex_t decider_lock = PTHREAD_MUTEX_INITIALIZER;
static struct decider deciders[MAX_DECIDERS * 2];
static size_t ndeciders;
static unsigned long decider_overflow;

static size_t
name_hash(const char *s)
{
	size_t h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void
count_decider(const char *name, enum action a)
{
	size_t n = sizeof(deciders) / sizeof(deciders[0]), i = name_hash(name) % n;

	pthread_mutex_lock(&decider_lock);
	while (deciders[i].name != NULL && strcmp(deciders[i].name, name) != 0)
		i = (i + 1) % n;
	if (deciders[i].name == NULL) {
		if (ndeciders >= MAX_DECIDERS || (deciders[i].name = strdup(name)) == NULL) {
			decider_overflow++;
			pthread_mutex_unlock(&decider_lock);
			return;
		}
		ndeciders++;
	}
	deciders[i].count[a]++;
	pthread_mutex_unlock(&decider_lock);
}

void
stats_decision(int stage, const struct verdict *v)
{
	enum action a = v->monitored ? v->would : v->action;

	if (stage < 0 || stage >= STAGE_COUNT || (unsigned)a >= NACTIONS)
		return;
	atomic_fetch_add_explicit(&decisions[stage][a][v->monitored], 1, memory_order_relaxed);
	/* A noted continue is a rule that acted (WARN, OK, PREPEND ...): count it by rule too. */
	if ((a != ACT_CONTINUE || v->monitored || v->note) && v->by[0] != '\0')
		count_decider(v->by, a);
}

void
stats_latency(enum stats_latency which, double seconds)
{
	struct histogram *h = &latency[which];
	size_t i;

	for (i = 0; i < NBUCKETS && seconds > bucket_le[i]; i++)
		;
	if (i < NBUCKETS)
		atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (unsigned long)(seconds * 1e6), memory_order_relaxed);
}

void
stats_reload(bool ok, unsigned long gen)
{
	atomic_fetch_add(ok ? &reloads_ok : &reloads_failed, 1);
	if (ok)
		atomic_store(&generation, gen);
}

void
stats_sessions(int delta)
{
	atomic_fetch_add(&sessions, delta);
}

void
stats_log(void (*emit)(const char *line, void *arg), void *arg)
{
	char line[1024];
	struct strbuf sb;
	int st, a, m;
	size_t i;

	for (st = 0; st < STAGE_COUNT; st++) {
		size_t empty;

		strbuf_init(&sb, line, sizeof(line));
		strbuf_addf(&sb, "stats: decisions %s:", stage_name((enum stage)st));
		empty = sb.len;
		for (a = 0; a < (int)NACTIONS; a++)
			for (m = 0; m < 2; m++) {
				unsigned long n = atomic_load(&decisions[st][a][m]);

				if (n > 0)
					strbuf_addf(&sb, " %s%s=%lu", m ? "would_" : "",
					    action_name((enum action)a), n);
			}
		if (sb.len > empty)
			emit(line, arg);
	}
	pthread_mutex_lock(&decider_lock);
	for (i = 0; i < sizeof(deciders) / sizeof(deciders[0]); i++) {
		if (deciders[i].name == NULL)
			continue;
		strbuf_init(&sb, line, sizeof(line));
		strbuf_addf(&sb, "stats: by %s:", deciders[i].name);
		for (a = 0; a < (int)NACTIONS; a++)
			if (deciders[i].count[a] > 0)
				strbuf_addf(&sb, " %s=%lu", action_name((enum action)a), deciders[i].count[a]);
		emit(line, arg);
	}
	pthread_mutex_unlock(&decider_lock);
	for (i = 0; i < LAT_COUNT; i++) {
		unsigned long n = atomic_load(&latency[i].count);

		snprintf(line, sizeof(line), "stats: %s count=%lu mean=%.3fms", latency_name[i], n,
		    n ? (double)atomic_load(&latency[i].sum_us) / 1000.0 / (double)n : 0.0);
		emit(line, arg);
	}
	snprintf(line, sizeof(line), "stats: sessions=%ld reloads ok=%lu failed=%lu generation=%lu",
	    (long)atomic_load(&sessions), atomic_load(&reloads_ok), atomic_load(&reloads_failed),
	    atomic_load(&generation));
	emit(line, arg);
}

/* Prometheus label values escape backslash, quote and newline. */
static void
label_value(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
prom_decisions(FILE *fp)
{
	int st, a, m;
	size_t i;

	fputs("# HELP relayguard_decisions_total Decisions by SMTP stage and action (monitor: would_*).\n"
	      "# TYPE relayguard_decisions_total counter\n", fp);
	for (st = 0; st < STAGE_COUNT; st++)
		for (a = 0; a < (int)NACTIONS; a++)
			for (m = 0; m < 2; m++) {
				unsigned long n = atomic_load(&decisions[st][a][m]);

				if (n > 0)
					fprintf(fp, "relayguard_decisions_total{stage=\"%s\",action=\"%s%s\"} %lu\n",
					    stage_name((enum stage)st), m ? "would_" : "",
					    action_name((enum action)a), n);
			}
	fputs("# HELP relayguard_decider_total Decisions other than continue, by check or rule id.\n"
	      "# TYPE relayguard_decider_total counter\n", fp);
	pthread_mutex_lock(&decider_lock);
	for (i = 0; i < sizeof(deciders) / sizeof(deciders[0]); i++) {
		if (deciders[i].name == NULL)
			continue;
		for (a = 0; a < (int)NACTIONS; a++) {
			if (deciders[i].count[a] == 0)
				continue;
			fputs("relayguard_decider_total{by=\"", fp);
			label_value(fp, deciders[i].name);
			fprintf(fp, "\",action=\"%s\"} %lu\n", action_name((enum action)a),
			    deciders[i].count[a]);
		}
	}
	if (decider_overflow > 0)
		fprintf(fp, "relayguard_decider_total{by=\"(other)\",action=\"any\"} %lu\n",
		    decider_overflow);
	pthread_mutex_unlock(&decider_lock);
}

static void
prom_latency(FILE *fp)
{
	size_t i, b;

	for (i = 0; i < LAT_COUNT; i++) {
		unsigned long cum = 0;

		fprintf(fp, "# HELP relayguard_%s_seconds Latency of one %s.\n"
			    "# TYPE relayguard_%s_seconds histogram\n",
		    latency_name[i], i == LAT_DNS ? "DNS lookup" : "counter-store operation",
		    latency_name[i]);
		for (b = 0; b < NBUCKETS; b++) {
			cum += atomic_load(&latency[i].bucket[b]);
			fprintf(fp, "relayguard_%s_seconds_bucket{le=\"%g\"} %lu\n", latency_name[i],
			    bucket_le[b], cum);
		}
		fprintf(fp, "relayguard_%s_seconds_bucket{le=\"+Inf\"} %lu\n", latency_name[i],
		    atomic_load(&latency[i].count));
		fprintf(fp, "relayguard_%s_seconds_sum %.6f\n", latency_name[i],
		    (double)atomic_load(&latency[i].sum_us) / 1e6);
		fprintf(fp, "relayguard_%s_seconds_count %lu\n", latency_name[i],
		    atomic_load(&latency[i].count));
	}
}

bool
stats_prometheus(char **out, size_t *len)
{
	FILE *fp = open_memstream(out, len);

	if (fp == NULL)
		return false;
	prom_decisions(fp);
	prom_latency(fp);
	fprintf(fp, "# HELP relayguard_sessions Open SMTP sessions.\n# TYPE relayguard_sessions gauge\n"
		    "relayguard_sessions %ld\n",
	    (long)atomic_load(&sessions));
	fprintf(fp, "# HELP relayguard_reloads_total Configuration reloads.\n"
		    "# TYPE relayguard_reloads_total counter\n"
		    "relayguard_reloads_total{result=\"ok\"} %lu\n"
		    "relayguard_reloads_total{result=\"failed\"} %lu\n",
	    atomic_load(&reloads_ok), atomic_load(&reloads_failed));
	fprintf(fp, "# HELP relayguard_config_generation Generation of the running configuration.\n"
		    "# TYPE relayguard_config_generation gauge\nrelayguard_config_generation %lu\n",
	    atomic_load(&generation));
	return fclose(fp) == 0;
}

void
stats_reset(void)
{
	size_t i;

	memset(decisions, 0, sizeof(decisions));
	memset(latency, 0, sizeof(latency));
	pthread_mutex_lock(&decider_lock);
	for (i = 0; i < sizeof(deciders) / sizeof(deciders[0]); i++)
		free(deciders[i].name);
	memset(deciders, 0, sizeof(deciders));
	ndeciders = 0;
	decider_overflow = 0;
	pthread_mutex_unlock(&decider_lock);
}
