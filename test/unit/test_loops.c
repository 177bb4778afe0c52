/*
 * test_loops.c - hops, loops and turf through the decision core, with the
 * inputs a what-if script cannot make: hundreds of headers, a 256 KiB
 * header, a 20 MiB body in milter-sized chunks, and a counter store that
 * cannot be reached.  Also what the glue relies on: header decisions come
 * back at eoh, and the body stops being wanted as soon as nothing needs it
 * (so the glue can answer SMFIS_SKIP).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "services.h"
#include "session.h"
#include "snapshot.h"
#include "tap.h"
#include "../../rules/store_priv.h"

static char dir[64];

/* A snapshot of the configuration TEXT (turf_dir = DIR/turf appended when TURF). */
static struct snapshot *
load(const char *text, bool turf)
{
	char path[128];
	struct snapshot *snap;
	struct diag d;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/t.conf", dir);
	fp = fopen(path, "w");
	fprintf(fp, "local_domains = example.com\n%s", text);
	if (turf)
		fprintf(fp, "turf_dir = %s/turf\n", dir);
	fclose(fp);
	diag_init(&d);
	snap = snapshot_load(path, &d);
	if (snap == NULL)
		diag_print(&d, stdout);
	diag_free(&d);
	return snap;
}

/* A session from 198.51.100.7 with MAIL FROM SENDER and RCPT TO alice. */
static struct session *
start(struct snapshot *snap, struct services *svc, const char *sender)
{
	struct session *s = session_new(snap, svc);
	struct verdict v;
	struct ipaddr ip;

	ipaddr_parse("198.51.100.7", &ip);
	decide_connect(s, &ip, "mx.example.net", &v);
	decide_mail(s, sender, NULL, &v);
	decide_rcpt(s, "<alice@example.com>", NULL, &v);
	decide_data(s, &v);
	return s;
}

static void
test_many_headers(struct services *svc)
{
	struct snapshot *snap = load("", false);
	struct session *s = start(snap, svc, "<a@example.net>");
	struct verdict v;
	int i, refused = 0, first = 0;

	for (i = 1; i <= 500; i++) {
		decide_header(s, i % 2 ? "Received" : "X-Filler",
		              "from somewhere by somewhere else", &v);
		if (v.action != ACT_CONTINUE) {
			refused++;
			first = first ? first : i;
		}
	}
	tap_int(refused, 1, "500 headers, 250 Received: one decision");
	tap_int(first, 101, "at the 51st Received: (header 101)");
	decide_eoh(s, &v);
	tap_ok(v.action == ACT_REJECT && strcmp(v.reply.code, "554") == 0 &&
	           strcmp(v.reply.xcode, "5.4.6") == 0,
	       "answered at eoh: %s %s", v.reply.code, v.reply.xcode);
	tap_str(v.by, "hops", "decided by hops");
	session_free(s);
	snapshot_unref(snap);
}

/* Send one message with SUBJECT and BODY; the eom verdict's action. */
static enum action
message(struct snapshot *snap, struct services *svc, const char *subject, const char *body)
{
	struct session *s = start(snap, svc, "<>");
	struct verdict v;

	decide_header(s, "Subject", subject, &v);
	decide_eoh(s, &v);
	decide_body(s, (const unsigned char *)body, strlen(body), &v);
	decide_eom(s, &v);
	session_free(s);
	return v.action;
}

static void
test_huge_header(struct services *svc)
{
	struct snapshot *snap = load("loop_max = 1\n", false);
	size_t n = 256 * 1024;
	char *a = malloc(n + 1), *b = malloc(n + 1);

	memset(a, 'a', n);
	a[n] = '\0';
	memcpy(b, a, n + 1);
	b[n - 1] = 'b'; /* differs far beyond the bytes the fingerprint reads */
	tap_int(message(snap, svc, a, "same body\r\n"), ACT_CONTINUE, "a 256 KiB Subject: decided");
	tap_int(
	    message(snap, svc, b, "same body\r\n"), ACT_TEMPFAIL,
	    "the same first 998 bytes: the same message (a repeat: 451 without turf_dir)");
	b[10] = 'b';
	tap_int(message(snap, svc, b, "same body\r\n"), ACT_CONTINUE,
	        "differing early: another message");
	free(a);
	free(b);
	snapshot_unref(snap);
}

static void
test_body_wanted(struct services *svc)
{
	struct snapshot *snap = load("", false);
	struct session *s = start(snap, svc, "<a@example.net>");
	unsigned char chunk[700];
	struct verdict v;

	memset(chunk, 'z', sizeof(chunk));
	decide_header(s, "Subject", "x", &v);
	decide_eoh(s, &v);
	tap_ok(decide_body_wanted(s), "the fingerprint wants the first body bytes");
	decide_body(s, chunk, sizeof(chunk), &v);
	tap_ok(decide_body_wanted(s), "700 bytes: still wanted");
	decide_body(s, chunk, sizeof(chunk), &v);
	tap_ok(!decide_body_wanted(s),
	       "1400 bytes: fingerprint done, no copy needed: the rest can be skipped");
	session_free(s);
	snapshot_unref(snap);

	snap = load("", true);
	snap->needs |= NEED_TURF_COPY; /* as a rule that may turf late would ask */
	s = start(snap, svc, "<a@example.net>");
	decide_header(s, "Subject", "x", &v);
	decide_eoh(s, &v);
	decide_body(s, chunk, sizeof(chunk), &v);
	decide_body(s, chunk, sizeof(chunk), &v);
	tap_ok(decide_body_wanted(s), "NEED_TURF_COPY with turf_dir: the whole body is kept");
	session_free(s);
	snapshot_unref(snap);

	snap = load("loop_max = 0\nmax_hops = 0\nrdns = off\nspf = off\n", false);
	tap_int(snap->needs, 0, "no hops, no loops, no turf: neither headers nor body asked for");
	snapshot_unref(snap);
	snap = load("loop_max = 0\n", false);
	tap_int(snap->needs, NEED_HEADERS, "hops alone: headers only");
	snapshot_unref(snap);
}

static void
test_huge_body(struct services *svc)
{
	struct snapshot *snap =
	    load("turf_senders = loopy@example.net\nturf_max_size = 1m\n", true);
	struct session *s = start(snap, svc, "<loopy@example.net>");
	static unsigned char chunk[65535];
	struct verdict v;
	int i, wanted_at_end;

	memset(chunk, 'q', sizeof(chunk));
	decide_header(s, "Subject", "big", &v);
	decide_eoh(s, &v);
	for (i = 0; i < 320 && decide_body_wanted(s); i++) /* 20 MiB, as long as it is wanted */
		decide_body(s, chunk, sizeof(chunk), &v);
	wanted_at_end = decide_body_wanted(s);
	tap_ok(i > 15 && i < 18, "the body is wanted up to turf_max_size (%d chunks)", i);
	tap_ok(!wanted_at_end, "and not beyond: the MTA may skip the rest");
	decide_eom(s, &v);
	tap_int(v.action, ACT_QUARANTINE, "over turf_max_size: quarantined, not cut");
	tap_ok(session_changes(s)->quarantine != NULL,
	       "the quarantine reason is a change for the MTA");
	session_free(s);
	snapshot_unref(snap);

	snap = load("turf_senders = loopy@example.net\n", true);
	s = start(snap, svc, "<loopy@example.net>");
	decide_header(s, "Subject", "big", &v);
	decide_eoh(s, &v);
	for (i = 0; i < 100; i++)
		decide_body(s, chunk, sizeof(chunk), &v);
	tap_ok(decide_body_wanted(s), "a turf pending: every body byte is wanted");
	decide_eom(s, &v);
	tap_int(v.action, ACT_TURF, "6.5 MB turfed");
	tap_ok(session_turf_id(s) != NULL, "copy written: %s",
	       session_turf_id(s) ? session_turf_id(s) : "");
	session_free(s);
	snapshot_unref(snap);
}

/* ---- a counter store that is never reachable ---- */

static enum store_res
down_rate(struct store *st, const char *key, unsigned long limit, long window_ms, unsigned cost,
          long now_ms, bool count, struct store_rate *out)
{
	(void)st, (void)key, (void)limit, (void)window_ms, (void)cost, (void)now_ms, (void)count,
	    (void)out;
	return STORE_UNAVAILABLE;
}

static enum store_res
down_note(struct store *st, const char *key, const char *value, long ttl_ms, long now_ms, char *out,
          size_t size)
{
	(void)st, (void)key, (void)value, (void)ttl_ms, (void)now_ms, (void)out, (void)size;
	return STORE_UNAVAILABLE;
}

static void
test_store_down(void)
{
	static const struct store_ops ops = {down_rate, NULL, down_note, NULL, NULL, NULL};
	struct store down = {&ops};
	struct services svc = {.store = &down};
	struct snapshot *snap = load("store_failure = tempfail\n", false);
	struct session *s = start(snap, &svc, "<>");
	struct verdict v;

	decide_header(s, "Subject", "x", &v);
	decide_eoh(s, &v);
	decide_eom(s, &v);
	tap_ok(v.action == ACT_TEMPFAIL && v.reply.code[0] == '4',
	       "store down, store_failure = tempfail: %s %s", v.reply.code, v.reply.xcode);
	session_free(s);
	snapshot_unref(snap);
	snap = load("store_failure = accept\n", false);
	s = start(snap, &svc, "<>");
	decide_eom(s, &v);
	tap_int(v.action, ACT_CONTINUE, "store down, store_failure = accept: no opinion");
	session_free(s);
	snapshot_unref(snap);
}

int
main(void)
{
	struct services svc;
	struct snapshot *snap;
	struct diag d;
	char cmd[160];

	snprintf(dir, sizeof(dir), "%s/rgloops.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(cmd, sizeof(cmd), "%s/turf", dir);
	mkdir(cmd, 0700);
	snap = load("", false);
	diag_init(&d);
	if (snap == NULL || !services_init(&svc, snap->cfg, &d))
		return 99;
	snapshot_unref(snap);
	test_many_headers(&svc);
	test_huge_header(&svc);
	test_body_wanted(&svc);
	test_huge_body(&svc);
	test_store_down();
	services_free(&svc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
