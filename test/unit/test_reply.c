/*
 * test_reply.c - reply templates: validation (RFC 5321 codes, RFC 3463
 * class agreement), expansion and %-handling, soft mode.
 */
#include "autoconf.h"

#include "reply.h"
#include "tap.h"

static const char *
lookup(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "client_addr") == 0)
		return "192.0.2.1";
	if (strcmp(name, "helo") == 0)
		return "evil\r\n250 ok %s";
	return NULL;
}

int
main(void)
{
	static const struct {
		const char *in;
		char klass;
		bool ok;
		const char *err;
	} rows[] = {
		{"550 5.7.1 Relaying denied", 0, true, ""},
		{"451 4.7.25 Client %{client_addr} has no name", '4', true, ""},
		{"554 5.4.6 Too many hops", '5', true, ""},
		{"421 4.7.0 Go away", 0, true, ""},
		{"250 2.0.0 ok", 0, false, "reply code 250 is not a refusal (use 4xx or 5xx)"},
		{"550 4.7.1 mixed", 0, false, "enhanced code 4.7.1 does not match reply code 550 (RFC 3463: class 5)"},
		{"450 5.7.1 mixed", 0, false, "enhanced code 5.7.1 does not match reply code 450 (RFC 3463: class 4)"},
		{"550 5.7.1", 0, false, "reply text missing after 550 5.7.1"},
		{"550 Relaying denied", 0, false, "reply needs an enhanced status code x.y.z after 550 (RFC 3463)"},
		{"55 5.7.1 short", 0, false, "reply must start with a three-digit SMTP code"},
		{"5500 5.7.1 long", 0, false, "reply must start with a three-digit SMTP code"},
		{"550 5.7.1 100% sure", 0, false, "lone % in reply text (write %% for a percent sign)"},
		{"550 5.7.1 100%% sure", 0, true, ""},
		{"550 5.7.1 %{nosuch}", 0, false, "unknown %{nosuch} in reply text"},
		{"550 5.7.1 %{client_addr", 0, false, "unterminated %{...} in reply text"},
		{"450 4.7.1 soft", '5', false, "reply code 450 must be 5xx here"},
		{"590 5.7.1 odd", 0, false, "reply code 590 is not a valid SMTP code"},
		{"550 5.1000.1 x", 0, false, "reply needs an enhanced status code x.y.z after 550 (RFC 3463)"},
		{"550 55.1.1 x", 0, false, "reply needs an enhanced status code x.y.z after 550 (RFC 3463)"},
	};
	struct reply_tmpl t;
	struct reply r;
	char err[200];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok;

		err[0] = '\0';
		ok = reply_parse(rows[i].in, rows[i].klass, &t, err, sizeof(err));
		tap_ok(ok == rows[i].ok, "\"%s\" %s", rows[i].in, rows[i].ok ? "accepted" : "refused");
		if (!rows[i].ok)
			tap_str(err, rows[i].err, "  diagnostic");
	}
	reply_parse("451 4.7.25 Client %{client_addr} (helo %{helo}) %{rcpt}, 100%% sure", 0, &t, err,
	    sizeof(err));
	reply_expand(&t, lookup, NULL, &r);
	tap_str(r.text, "Client 192.0.2.1 (helo evil\\x0d\\x0a250 ok %s) unknown, 100% sure",
	    "expansion is printable, no CR/LF can escape");
	tap_str(r.code, "451", "code");
	tap_str(r.xcode, "4.7.25", "enhanced code");
	reply_parse("550 5.7.1 Relaying denied", 0, &t, err, sizeof(err));
	reply_expand(&t, lookup, NULL, &r);
	reply_soften(&r);
	tap_str(r.code, "450", "soft mode: 550 -> 450");
	tap_str(r.xcode, "4.7.1", "soft mode: 5.7.1 -> 4.7.1");
	return tap_done();
}
