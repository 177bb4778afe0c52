/*
 * fuzz_message.c - libFuzzer target: header and body handling.  The input
 * is one message (header lines, a blank line, the body) pushed through the
 * decision core as the glue would push it, with a policy that looks at
 * everything that reads headers and bodies: hop count, loop marker,
 * auto-reply detection, forged Authentication-Results removal, loop
 * fingerprints, header and body rules.  Whatever the bytes, no crash, no
 * leak, and a refusal always carries a 4xx/5xx code.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "services.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct snapshot *snap;
static struct services svc;

static const char conf[] =
	"local_domains = example.com\n"
	"trusted_networks = 192.0.2.0/24\n"
	"rdns = off\nspf = off\n"
	"max_hops = 5\n"
	"loop_header = X-Loop: fuzz.example.com\n"
	"loop_max = 2\n"
	"block_external_autoreplies = yes\n"
	"authserv_id = mx.example.com\n"
	"rules = ./fuzz.rules\n";
static const char rules[] =
	"header Subject /^(viagra|lottery).*$/i REJECT 550 5.7.1 no $1\n"
	"header /^X-Spam-Flag: *YES/i DISCARD\n"
	"body /(^|\\n)unsubscribe ([a-z]+)/i PREPEND X-Unsub: $2\n"
	"eom {i} /^(Q.*)/ WARN queue $1\n";

/* Write the policy once into a private directory and load it. */
static void
setup(void)
{
	char dir[] = "/tmp/rgfuzzmsg.XXXXXX", path[64];
	struct diag d;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/fuzz.rules", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fputs(rules, fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fputs(conf, fp);
	fclose(fp);
	diag_init(&d);
	if ((snap = snapshot_load(path, &d)) == NULL || !services_init(&svc, snap->cfg, &d)) {
		diag_print(&d, stderr);
		abort();
	}
	diag_free(&d);
}

static void
check(const struct verdict *v)
{
	if ((v->action == ACT_REJECT && v->reply.code[0] != '5') ||
	    (v->action == ACT_TEMPFAIL && v->reply.code[0] != '4'))
		abort();
}

/* Feed the header lines of [P, END) one by one; returns where the body starts. */
static const char *
feed_headers(struct session *s, const char *p, const char *end)
{
	struct verdict v;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line;

		if (len == 0 || (len == 1 && p[0] == '\r'))
			return nl ? nl + 1 : end;
		if ((line = malloc(len + 1)) == NULL)
			abort();
		memcpy(line, p, len);
		line[len] = '\0';
		colon = strchr(line, ':');
		if (colon != NULL) {
			line[colon - line] = '\0';
			decide_header(s, line, line + (colon - line) + 1, &v);
			check(&v);
		}
		free(line);
		p = nl ? nl + 1 : end;
	}
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *body;
	struct session *s;
	struct verdict v;
	struct ipaddr ip;

	if (snap == NULL)
		setup();
	if ((s = session_new(snap, &svc)) == NULL)
		return 0;
	ipaddr_parse(size % 2 ? "192.0.2.7" : "203.0.113.9", &ip);
	decide_connect(s, &ip, "client.example.net", &v);
	decide_helo(s, "client.example.net", &v);
	decide_mail(s, size % 3 ? "<a@example.net>" : "<>", NULL, &v);
	decide_rcpt(s, "<b@example.com>", NULL, &v);
	decide_rcpt(s, "<c@elsewhere.example>", NULL, &v);
	session_set_macro(s, "i", "Q1234");
	decide_data(s, &v);
	body = feed_headers(s, p, end);
	decide_eoh(s, &v);
	check(&v);
	while (body < end) {
		size_t n = (size_t)(end - body) < 4096 ? (size_t)(end - body) : 4096;

		decide_body(s, (const unsigned char *)body, n, &v);
		check(&v);
		body += n;
	}
	decide_eom(s, &v);
	check(&v);
	decide_abort(s);
	decide_close(s);
	session_free(s);
	return 0;
}
