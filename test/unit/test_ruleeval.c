/*
 * test_ruleeval.c - rules at run time, through the core API (the same
 * calls the milter glue makes): bodies in arbitrary chunks with NULs,
 * CRLF and bare LF, long lines, the body limit; invalid UTF-8; patterns
 * that backtrack catastrophically against hostile input, which must end
 * in a temporary failure within a bounded time; several threads matching
 * at once (per-thread match data and JIT stacks).
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "session.h"
#include "snapshot.h"
#include "stats.h"
#include "tap.h"

static char dir[64];

static struct snapshot *
load(const char *conf, const char *rules)
{
	char path[200];
	struct snapshot *snap;
	struct diag d;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/t.rules", dir);
	fp = fopen(path, "w");
	fputs(rules, fp);
	fclose(fp);
	chmod(path, 0644);
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "local_domains = example.com\nrules = t.rules\n%s", conf);
	fclose(fp);
	chmod(path, 0644);
	diag_init(&d);
	snap = snapshot_load(path, &d);
	if (snap == NULL)
		diag_print(&d, stdout);
	diag_free(&d);
	return snap;
}

/* A session up to DATA: one local recipient. */
static struct session *
message(struct snapshot *snap)
{
	struct session *s = session_new(snap, NULL);
	struct verdict v;
	struct ipaddr ip;

	ipaddr_parse("203.0.113.5", &ip);
	decide_connect(s, &ip, "client.example.net", &v);
	decide_helo(s, "client.example.net", &v);
	decide_mail(s, "<a@example.net>", NULL, &v);
	decide_rcpt(s, "<bob@example.com>", NULL, &v);
	decide_data(s, &v);
	return s;
}

/* Feed BODY (LEN bytes) in chunks of CHUNK bytes, then eom; return the first verdict that is not continue. */
static struct verdict
feed(struct snapshot *snap, const char *body, size_t len, size_t chunk)
{
	struct session *s = message(snap);
	struct verdict v;
	size_t off;

	for (off = 0; off < len; off += chunk) {
		decide_body(s, (const unsigned char *)body + off, len - off < chunk ? len - off : chunk, &v);
		if (v.action != ACT_CONTINUE || v.note)
			goto out;
	}
	decide_eom(s, &v);
out:
	session_free(s);
	return v;
}

static void
test_body(void)
{
	struct snapshot *snap = load("",
	    "body /^secret\\x00code$/ REJECT 554 5.7.1 NUL found\n"
	    "body /^ends here$/ REJECT 554 5.7.1 last line\n"
	    "body /^x{5000}$/ REJECT 554 5.7.1 whole long line\n"
	    "body /^x{4096}$/ REJECT 554 5.7.1 long line piece\n"
	    "body /late/ REJECT 554 5.7.1 past the limit\n");
	static const char nul[] = "hello\r\nsecret\0code\r\nbye\r\n";
	static const char lf[] = "hello\nsecret\0code\nbye\n";
	char *big;
	struct verdict v;
	size_t chunk;

	tap_ok(snap != NULL, "body rules load");
	for (chunk = 1; chunk <= sizeof(nul); chunk += 3) {
		v = feed(snap, nul, sizeof(nul) - 1, chunk);
		if (!tap_ok(v.action == ACT_REJECT && strcmp(v.reply.text, "NUL found") == 0,
			"a NUL inside a line, CRLF, chunks of %zu bytes", chunk))
			break;
	}
	v = feed(snap, lf, sizeof(lf) - 1, 7);
	tap_ok(v.action == ACT_REJECT, "bare LF line ends");
	v = feed(snap, "a\r\nends here", 12, 5);
	tap_str(v.reply.text, "last line", "a last line without line end is matched at eom");
	big = malloc(6000);
	memset(big, 'x', 6000);
	memcpy(big + 5000, "\r\n", 2);
	v = feed(snap, big, 5002, 1000);
	tap_str(v.reply.text, "long line piece", "a long line is matched in pieces of CAP_RULE_BODY_LINE");
	snapshot_unref(snap);

	snap = load("", "body /late/ REJECT 554 5.7.1 past the limit\n");
	memset(big, 'y', 6000);
	memcpy(big + 5990, "late\r\n", 6);
	v = feed(snap, big, 5996, 4096);
	tap_int(v.action, ACT_REJECT, "within the default 64k body limit");
	snapshot_unref(snap);
	snap = load("rules_body_limit = 1k\n", "body /late/ REJECT 554 5.7.1 past the limit\n");
	v = feed(snap, big, 5996, 4096);
	tap_int(v.action, ACT_CONTINUE, "past rules_body_limit the body is not looked at");
	snapshot_unref(snap);
	free(big);
}

/* One header in a message of its own. */
static void
header_once(struct snapshot *snap, const char *name, const char *value, struct verdict *v)
{
	struct session *s = message(snap);

	decide_header(s, name, value, v);
	session_free(s);
}

static void
test_utf8(void)
{
	struct snapshot *snap = load("",
	    "header Subject /viagra/i REJECT 554 5.7.1 spam\n"
	    "header X-Any /^.*cheap$/ REJECT 554 5.7.1 bytes\n"
	    "header X-Chars /^.*cheap$/u REJECT 554 5.7.1 characters\n"
	    "header X-Name /^J\xc3\xb6rg$/iu REJECT 554 5.7.1 utf-8 name\n"
	    "header X-Bytes /^J\xc3\xb6rg$/i REJECT 554 5.7.1 utf-8 bytes\n");
	struct verdict v;

	/* A header decision ends the header checks of its message: one message per header. */
	header_once(snap, "Subject", "\xff\xfe\xc3 cheap VIAGRA \x80", &v);
	tap_int(v.action, ACT_REJECT, "invalid UTF-8 around the word does not stop the match");
	header_once(snap, "X-Any", "caf\xe9 cheap", &v);
	tap_int(v.action, ACT_REJECT, "raw bytes: . steps over a Latin-1 byte");
	header_once(snap, "X-Chars", "caf\xe9 cheap", &v);
	tap_int(v.action, ACT_CONTINUE, "u flag: . does not step over invalid UTF-8 (no error either)");
	header_once(snap, "X-Chars", "caf\xc3\xa9 cheap", &v);
	tap_int(v.action, ACT_REJECT, "u flag: . steps over a UTF-8 character");
	header_once(snap, "X-Name", "J\xc3\x96RG", &v);
	tap_int(v.action, ACT_REJECT, "u flag: UTF-8 in patterns, caseless beyond ASCII");
	header_once(snap, "X-Bytes", "J\xc3\xb6RG", &v);
	tap_int(v.action, ACT_REJECT, "raw bytes: UTF-8 in a pattern matches the same bytes");
	header_once(snap, "X-Bytes", "J\xc3\x96RG", &v);
	tap_int(v.action, ACT_CONTINUE, "raw bytes: caseless is ASCII only");
	header_once(snap, "X-Name", "J\xd6rg", &v);
	tap_int(v.action, ACT_CONTINUE, "u flag: Latin-1 is not UTF-8: no match, no error");
	snapshot_unref(snap);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_backtracking(void)
{
	struct snapshot *snap = load("",
	    "evil-anchored: header Subject /^(a+)+$/ OK\n"
	    "evil-body: body /(\\w+\\s?)+$/ OK\n");
	struct session *s = message(snap);
	char subject[64], *line;
	struct verdict v;
	double t0;

	memset(subject, 'a', 40);
	strcpy(subject + 40, "!");
	t0 = now();
	decide_header(s, "Subject", subject, &v);
	tap_ok(now() - t0 < 2.0, "the anchored pattern gives up within 2 s (%.3f s)", now() - t0);
	tap_int(v.action, ACT_TEMPFAIL, "a match limit is a temporary failure, not a match");
	tap_str(v.by, "evil-anchored", "... decided by the rule");
	tap_str(v.reply.code, "451", "... 451");
	tap_str(v.detail, "pattern failed: match limit exceeded", "... says why");
	session_free(s);

	s = message(snap);
	line = malloc(4000);
	memset(line, 'a', 3997);
	memcpy(line + 3997, "!\r\n", 3);
	t0 = now();
	decide_body(s, (const unsigned char *)line, 4000, &v);
	tap_ok(now() - t0 < 5.0, "an unanchored pattern over a 4 KB line gives up within 5 s (%.3f s)",
	    now() - t0);
	tap_int(v.action, ACT_TEMPFAIL, "... and tempfails too");
	free(line);
	session_free(s);
	snapshot_unref(snap);
}

static void
collect_line(const char *line, void *arg)
{
	strncat(arg, line, 4000 - strlen(arg));
	strncat(arg, "\n", 4000 - strlen(arg));
}

static void
test_stats(void)
{
	struct snapshot *snap = load("",
	    "warn-rule: rcpt /^w@/ WARN watched\n"
	    "reject-rule: rcpt /^r@/ REJECT 550 5.7.1 no\n");
	struct session *s = message(snap);
	struct verdict v;
	char text[4001] = "";

	stats_reset();
	decide_rcpt(s, "<w@example.com>", NULL, &v);
	decide_rcpt(s, "<w@example.com>", NULL, &v);
	decide_rcpt(s, "<r@example.com>", NULL, &v);
	stats_log(collect_line, text);
	tap_ok(strstr(text, "stats: by warn-rule: continue=2\n") != NULL, "statistics count a WARN by rule id");
	tap_ok(strstr(text, "stats: by reject-rule: reject=1\n") != NULL, "statistics count a REJECT by rule id");
	session_free(s);
	snapshot_unref(snap);
}

struct worker {
	struct snapshot *snap;
	int wrong;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 300; i++) {
		struct session *s = message(w->snap);
		struct verdict v;
		char rcpt[64];

		snprintf(rcpt, sizeof(rcpt), "<user%d@example.com>", i % 7);
		decide_rcpt(s, rcpt, NULL, &v);
		if ((i % 7 == 3) != (v.action == ACT_REJECT))
			w->wrong++;
		decide_header(s, "Subject", "hello (user3)", &v);
		if (v.action != ACT_CONTINUE)
			w->wrong++;
		session_free(s);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct snapshot *snap = load("",
	    "rcpt /^user(3)@example\\.com$/ REJECT 550 5.7.1 no user$1\n"
	    "header Subject /user3$/ REJECT 554 5.7.1 no\n");
	struct worker w[4];
	pthread_t tid[4];
	int i, wrong = 0;

	for (i = 0; i < 4; i++) {
		w[i].snap = snap;
		w[i].wrong = 0;
		pthread_create(&tid[i], NULL, work, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		wrong += w[i].wrong;
	}
	tap_int(wrong, 0, "four threads matching at once agree with one");
	snapshot_unref(snap);
}

int
main(void)
{
	char cmd[100];

	log_init("test", LOG_DEST_NONE);
	snprintf(dir, sizeof(dir), "/tmp/rgeval.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	chmod(dir, 0755);
	test_body();
	test_utf8();
	test_backtracking();
	test_threads();
	test_stats();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 99;
	return tap_done();
}
