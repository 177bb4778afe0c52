/*
 * bench_rules.c - what rule files cost per message, for 10, 100, 1,000
 * and 10,000 rules (make bench; not a test).
 *
 * Each set is the shipped sample rules (some of which have no literal
 * and run on every event) plus generated rules of the kind large sets
 * are made of: lists of recipients, sender domains, HELO names, client
 * networks, subject phrases and URLs.  A clean message (no rule matches,
 * so every stage is evaluated in full) goes through the core API, as the
 * milter glue would drive it: connect, HELO, MAIL, 3 RCPT, 12 headers,
 * a 60-line body, end of message.  Reported: microseconds per message
 * with rules, minus the same message with no rules (the rules' own
 * cost), and full RCPT decisions per second, all in CPU time.
 *
 * Then the same RCPT decisions with a large config: 10,000 trusted
 * networks (IPv4 and IPv6, none containing the client, so it stays
 * untrusted and every check runs), 1,000 local domains (one in ten a
 * ".parent" entry) and the set of 100 rules, recipients cycling over
 * local, external (relay refused) and postmaster addresses; reported
 * against the target of 200,000 decisions per second per core.  Build
 * without --enable-sanitizers for figures worth quoting.
 *
 * Usage: bench_rules [SECONDS]  (CPU seconds per figure, default 1)
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "decide.h"
#include "domset.h"
#include "log.h"
#include "ruleset.h"
#include "session.h"
#include "snapshot.h"

static char dir[64];

static const char samples[] =
	"percent-hack: rcpt /%/ if !trusted REJECT 550 5.7.1 Percent hack\n"
	"bang-path: rcpt /!/ if !trusted REJECT 550 5.7.1 Bang path\n"
	"source-route: rcpt /^@[^:]*:/ REJECT 550 5.7.1 Source route\n"
	"quoted-route: rcpt /^\"[^\"]*[@%!][^\"]*\"@/ REJECT 550 5.7.1 Quoted route\n"
	"nested-at: rcpt /@[^@\"]*@/ REJECT 550 5.7.1 Two @\n"
	"forged-helo-name: helo /^((mail|mx[0-9]*|smtp)\\.)?example\\.com\\.?$/i if !may_relay REJECT 550 5.7.1 Ours\n"
	"forged-helo-ip: helo /^\\[?(192\\.0\\.2\\.25|198\\.51\\.100\\.25)\\]?$/ if !may_relay REJECT 550 5.7.1 Ours\n"
	"dynamic-words: connect name /(^|[.-])(dhcp|dialup|dsl|adsl|cable|dyn|dynamic|pool|ppp)[0-9]*[.-]/i "
	"if !may_relay REJECT 550 5.7.1 Dynamic\n"
	"address-in-name: connect name /(^|[^0-9])\\d{1,3}[.-]\\d{1,3}[.-]\\d{1,3}([.-]\\d{1,3})?[.-][a-z]/i "
	"if !may_relay REJECT 550 5.7.1 Dynamic\n"
	"auto-submitted: header Auto-Submitted !/^\\s*no\\s*(;|$)/i if may_relay and external_rcpt DISCARD auto\n";

#define NSAMPLES 10

/* Rule number I of a generated set: a realistic mix of stages, each with a literal. */
static void
generated_rule(FILE *fp, int i)
{
	switch (i % 10) {
	case 0:
	case 1:
	case 2:
		fprintf(fp, "rcpt /^user%d@dept%d\\.example\\.com$/i REJECT 550 5.1.1 user%d left\n", i, i % 97, i);
		break;
	case 3:
	case 4:
		fprintf(fp, "mail /@spam%d-sender\\.example\\.net$/i REJECT 550 5.7.1 Sender domain %d\n", i, i);
		break;
	case 5:
		fprintf(fp, "helo /^bad-host%d\\.example\\.org$/i REJECT 550 5.7.1 HELO %d\n", i, i);
		break;
	case 6:
		fprintf(fp, "connect addr /^10\\.%d\\.%d\\./ WARN client net %d\n", (i / 256) % 256, i % 256, i);
		break;
	case 7:
		fprintf(fp, "header Subject /cheap product%d now/i DISCARD subject %d\n", i, i);
		break;
	default:
		fprintf(fp, "body /www\\.spamsite%d\\.example\\//i REJECT 554 5.7.1 URL %d\n", i, i);
	}
}

/* Load NRULES rules with LOCAL_DOMAINS and, unless NULL, TRUSTED (config values). */
static struct snapshot *
load_config(int nrules, const char *local_domains, const char *trusted)
{
	char path[200];
	struct snapshot *snap;
	struct diag d;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/bench.rules", dir);
	fp = fopen(path, "w");
	if (nrules > 0)
		fputs(samples, fp);
	for (i = NSAMPLES; i < nrules; i++)
		generated_rule(fp, i);
	fclose(fp);
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/bench.conf", dir);
	fp = fopen(path, "w");
	/* No DNS: the rules' own cost is measured (the DNS checks have their bench). */
	fprintf(fp, "local_domains = %s\nrules = bench.rules\nrules_body_limit = 1m\n"
		    "rdns = off\nspf = off\nloop_max = 0\n", local_domains);
	if (trusted != NULL)
		fprintf(fp, "trusted_networks = %s\n", trusted);
	fclose(fp);
	chmod(path, 0644);
	diag_init(&d);
	if ((snap = snapshot_load(path, &d)) == NULL)
		diag_print(&d, stderr);
	diag_free(&d);
	return snap;
}

static struct snapshot *
load_set(int nrules)
{
	return load_config(nrules, "example.com", NULL);
}

/* CPU time of this thread: the figures are per core, and other load on the machine does not count. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const headers[][2] = {
	{"Received", "from mail.client.example.org (mail.client.example.org [203.0.113.5]) by mx.example.com"},
	{"Received", "from [192.168.1.20] (helo=laptop) by mail.client.example.org with esmtpsa"},
	{"Received", "by laptop with local"},
	{"From", "Alice Example <alice@client.example.org>"},
	{"To", "Bob <bob@example.com>, Carol <carol@example.com>"},
	{"Cc", "Dave <dave@example.com>"},
	{"Subject", "Minutes of the meeting on Tuesday, and the plan for next week"},
	{"Date", "Tue, 24 Nov 2026 10:12:34 +0100"},
	{"Message-ID", "<20261124101234.12345@mail.client.example.org>"},
	{"MIME-Version", "1.0"},
	{"Content-Type", "text/plain; charset=utf-8"},
	{"Content-Transfer-Encoding", "8bit"},
};

/* A session of the bench's client (untrusted 203.0.113.5) after CONNECT and HELO. */
static struct session *
client_session(struct snapshot *snap)
{
	struct session *s = session_new(snap, NULL);
	struct verdict v;
	struct ipaddr ip;

	ipaddr_parse("203.0.113.5", &ip);
	decide_connect(s, &ip, "mail.client.example.org", &v);
	decide_helo(s, "mail.client.example.org", &v);
	return s;
}

/* One clean message through every stage; BODY is the whole body. */
static void
one_message(struct snapshot *snap, const char *body, size_t bodylen)
{
	struct session *s = client_session(snap);
	struct verdict v;
	size_t i;

	decide_mail(s, "<alice@client.example.org>", NULL, &v);
	decide_rcpt(s, "<bob@example.com>", NULL, &v);
	decide_rcpt(s, "<carol@example.com>", NULL, &v);
	decide_rcpt(s, "<dave@example.com>", NULL, &v);
	decide_data(s, &v);
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		decide_header(s, headers[i][0], headers[i][1], &v);
	decide_eoh(s, &v);
	decide_body(s, (const unsigned char *)body, bodylen, &v);
	decide_eom(s, &v);
	if (v.action != ACT_CONTINUE)
		fprintf(stderr, "bench: the clean message was decided: %s by %s\n", action_name(v.action), v.by);
	decide_abort(s);
	session_free(s);
}

/* Microseconds per message, over at least SECONDS. */
static double
per_message(struct snapshot *snap, const char *body, size_t bodylen, double seconds)
{
	double t0 = now(), t;
	long n = 0;

	do {
		int k;

		for (k = 0; k < 50; k++)
			one_message(snap, body, bodylen);
		n += 50;
		t = now() - t0;
	} while (t < seconds);
	return t / (double)n * 1e6;
}

/* Full RCPT decisions per second (syntax, postmaster, rules, relay, local users), cycling over RCPTS. */
static double
rcpt_rate_of(struct snapshot *snap, const char *const *rcpts, int nrcpts, double seconds)
{
	struct session *s = client_session(snap);
	struct verdict v;
	double t0, t;
	long n = 0;

	t0 = now();
	do {
		int k;

		decide_mail(s, "<alice@client.example.org>", NULL, &v);
		for (k = 0; k < 100; k++)
			decide_rcpt(s, rcpts[k % nrcpts], NULL, &v);
		decide_abort(s);
		n += 100;
		t = now() - t0;
	} while (t < seconds);
	session_free(s);
	return (double)n / t;
}

static double
rcpt_rate(struct snapshot *snap, double seconds)
{
	static const char *const rcpts[] = {"<bob@example.com>", "<carol@example.com>", "<victim@far.test>",
		"<Dave.Smith@example.com>"};

	return rcpt_rate_of(snap, rcpts, 4, seconds);
}

#define BIG_NETS	10000
#define BIG_DOMAINS	1000
#define BIG_RULES	100
#define BIG_TARGET	200000.0

/*
 * Network I of the trusted list: half IPv4, half IPv6, spaced so that no
 * two merge into one range (the lookup sees 10,000 ranges) and none
 * contains the client 203.0.113.5.
 */
static void
trusted_network(FILE *fp, int i)
{
	int j = i / 2;

	if (i % 2 == 0)
		fprintf(fp, "%d.%d.%d.0/25\n", 10 + j / 256 % 3 * 62, j % 256, j / 768 * 16);
	else
		fprintf(fp, "2001:db8:%x:%x::/64\n", j * 2, j % 7);
}

/* Write the list files of the large config; false on error. */
static bool
write_big_lists(void)
{
	char path[200];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/trusted", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	fputs("# generated by bench_rules\n", fp);
	for (i = 0; i < BIG_NETS; i++)
		trusted_network(fp, i);
	fclose(fp);
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/domains", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	fputs("example.com\n", fp);
	for (i = 1; i < BIG_DOMAINS; i++)
		fprintf(fp, i % 10 == 0 ? ".sub%d.example.net\n" : "d%d.example.org\n", i);
	fclose(fp);
	chmod(path, 0644);
	return true;
}

/* Print the answer to each of RCPTS once: the figure measures what it claims to. */
static void
show_verdicts(struct snapshot *snap, const char *const *rcpts, int nrcpts)
{
	struct session *s = client_session(snap);
	struct verdict v;
	int k;

	decide_mail(s, "<alice@client.example.org>", NULL, &v);
	for (k = 0; k < nrcpts; k++) {
		decide_rcpt(s, rcpts[k], NULL, &v);
		printf("#   %-32s %s%s%s\n", rcpts[k], action_name(v.action), v.by[0] ? " by " : "", v.by);
	}
	decide_abort(s);
	session_free(s);
}

/* RCPT decisions per second with the large config (see the top of the file). */
static bool
big_config(double seconds)
{
	/* local (exact, subdomain, any case), external (refused), postmaster */
	static const char *const rcpts[] = {"<bob@example.com>", "<user17@d17.example.org>",
		"<victim@far.test>", "<Carol@D999.Example.Org>", "<postmaster@d501.example.org>",
		"<info@mail.sub40.example.net>", "<someone@d1000.example.org>", "<user21@dept21.example.com>",
		"<postmaster@example.com>", "<x@elsewhere.example.net>"};
	char domains[220], trusted[220];
	struct snapshot *snap;
	double t0 = now(), load, rate;

	snprintf(domains, sizeof(domains), "%s/domains", dir);
	snprintf(trusted, sizeof(trusted), "%s/trusted", dir);
	if (!write_big_lists() || (snap = load_config(BIG_RULES, domains, trusted)) == NULL)
		return false;
	load = (now() - t0) * 1e3;
	printf("# %zu trusted networks (none contains the client), %zu local domains, %d rules: load %.1f ms\n",
	    cidrset_count(snap->cfg->trusted_networks), domset_count(snap->cfg->local_domains), BIG_RULES, load);
	printf("# client 203.0.113.5, recipients in turn:\n");
	show_verdicts(snap, rcpts, (int)(sizeof(rcpts) / sizeof(rcpts[0])));
	rate = rcpt_rate_of(snap, rcpts, (int)(sizeof(rcpts) / sizeof(rcpts[0])), seconds);
	printf("rcpt decisions/s with 10,000 trusted CIDRs, 1,000 local domains, 100 rules: %.0f "
	       "(target >= 200,000: %s)\n",
	    rate, rate >= BIG_TARGET ? "met" : "NOT met");
	snapshot_unref(snap);
	return true;
}

static char *
make_body(size_t *len)
{
	static const char line[] = "The quick brown fox jumps over the lazy dog; see the attached minutes.\r\n";
	size_t n = 60, i;
	char *body = malloc(n * (sizeof(line) - 1) + 1);

	for (i = 0; i < n; i++)
		memcpy(body + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	*len = n * (sizeof(line) - 1);
	body[*len] = '\0';
	return body;
}

int
main(int argc, char **argv)
{
	static const int sizes[] = {0, 10, 100, 1000, 10000};
	double seconds = argc > 1 ? atof(argv[1]) : 1.0, base = 0;
	size_t bodylen, i;
	char *body = make_body(&bodylen);
	char cmd[100];

	log_init("bench", LOG_DEST_NONE);
	snprintf(dir, sizeof(dir), "/tmp/rgbench.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	chmod(dir, 0755);
#if defined(__SANITIZE_ADDRESS__)
	printf("# built with sanitizers: these figures are not representative\n");
#endif
	printf("# one clean message: connect, helo, mail, 3 rcpt, 12 headers, %zu body bytes, eom\n", bodylen);
	printf("# CPU time of one thread; load ms is the time to load and compile the set\n");
	printf("%8s %12s %12s %14s %14s %14s\n", "rules", "prefiltered", "load ms", "us/message",
	    "rules us/msg", "rcpt/s");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double t0 = now(), load, us, rate;
		struct snapshot *snap = load_set(sizes[i]);
		char covered[32];
		FILE *mem;
		char *text = NULL;
		size_t textlen = 0;
		const char *p;

		if (snap == NULL)
			return 1;
		load = (now() - t0) * 1e3;
		/* "# prefilter: N of M rules ..." from the -n -v summary */
		mem = open_memstream(&text, &textlen);
		ruleset_print(snap->rules, mem);
		fclose(mem);
		snprintf(covered, sizeof(covered), "-");
		if ((p = strstr(text, "# prefilter: ")) != NULL)
			snprintf(covered, sizeof(covered), "%d", atoi(p + 13));
		free(text);
		one_message(snap, body, bodylen); /* warm up */
		us = per_message(snap, body, bodylen, seconds);
		rate = rcpt_rate(snap, seconds);
		if (sizes[i] == 0)
			base = us;
		printf("%8d %12s %12.1f %14.2f %14.2f %14.0f\n", sizes[i], covered, load, us, us - base, rate);
		fflush(stdout);
		snapshot_unref(snap);
	}
	free(body);
	if (!big_config(seconds))
		return 1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
