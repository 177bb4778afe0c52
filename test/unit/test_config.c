/*
 * test_config.c - relayguard.conf parsing: defaults, every value type,
 * list files, continuation lines, and broken files with their exact
 * "file:line: problem" diagnostics.  Files are written to a temporary
 * directory (never the source tree, which distcheck makes read-only).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[64];

static const char *
write_file(const char *name, const char *text)
{
	static char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* Load TEXT as a config; return the diagnostics joined by "|", paths relative to DIR. */
static const char *
diags_of(const char *text, struct config **out)
{
	static char joined[2048];
	const char *path = write_file("t.conf", text);
	struct diag d;
	struct config *cfg;
	size_t i, dl = strlen(dir) + 1;

	diag_init(&d);
	cfg = config_load(path, &d);
	joined[0] = '\0';
	for (i = 0; i < d.n; i++) {
		const char *m = strncmp(d.msgs[i], dir, dl - 1) == 0 ? d.msgs[i] + dl : d.msgs[i];

		if (i > 0)
			strncat(joined, "|", sizeof(joined) - strlen(joined) - 1);
		strncat(joined, m, sizeof(joined) - strlen(joined) - 1);
	}
	diag_free(&d);
	if (out != NULL)
		*out = cfg;
	else
		config_free(cfg);
	return joined;
}

static void
test_defaults(void)
{
	struct config *cfg;
	struct ipaddr ip;

	tap_str(diags_of("# empty\n", &cfg), "", "empty file loads");
	if (cfg == NULL)
		return;
	ipaddr_parse("127.0.0.1", &ip);
	tap_ok(cidrset_contains(cfg->trusted_networks, &ip), "default trusted_networks has 127/8");
	ipaddr_parse("::1", &ip);
	tap_ok(cidrset_contains(cfg->trusted_networks, &ip), "default trusted_networks has ::1");
	tap_ok(cfg->relay_authenticated, "relay_authenticated defaults to yes");
	tap_ok(strset_contains(cfg->always_accept_recipients, "postmaster"), "postmaster always accepted");
	tap_ok(cfg->local_recipients == NULL, "local_recipients unset by default");
	tap_str(cfg->relay_reply.code, "550", "relay_reply code");
	tap_str(cfg->relay_reply.xcode, "5.7.1", "relay_reply enhanced code");
	tap_str(cfg->relay_reply.text, "Relaying denied", "relay_reply text");
	tap_int(cfg->mode, MODE_ENFORCE, "mode enforce");
	tap_int(cfg->on_error, ON_ERROR_TEMPFAIL, "on_error tempfail");
	tap_ok(!cfg->soft_mode, "soft_mode off");
	config_free(cfg);
}

static void
test_values(void)
{
	struct config *cfg;
	struct ipaddr ip;

	write_file("domains.list", "# our domains\nexample.com\n\n  example.net  \n");
	tap_str(diags_of("local_domains = ./domains.list, example.org old.example\n"
			 "trusted_networks = 192.0.2.0/24\n"
			 "  # an indented comment inside a continued value\n"
			 "\n"
			 "  2001:db8::/32\n"
			 "\t10.0.0.0/8\n"
			 "mode = Monitor\n"
			 "soft_mode = YES\n"
			 "relay_reply = 554 5.7.1 No relaying for %{client_addr}, sorry #1\n"
			 "reroute = Old.Example:new.example.\n"
			 "socket = inet:8890@127.0.0.1\n",
		    &cfg),
	    "", "all value types load");
	if (cfg == NULL)
		return;
	tap_ok(domset_contains(cfg->local_domains, "example.net"), "list file item");
	tap_ok(domset_contains(cfg->local_domains, "example.org"), "inline item after a file");
	ipaddr_parse("10.1.1.1", &ip);
	tap_ok(cidrset_contains(cfg->trusted_networks, &ip), "continuation line item");
	ipaddr_parse("127.0.0.1", &ip);
	tap_ok(!cidrset_contains(cfg->trusted_networks, &ip), "a set value replaces the default");
	tap_int(cfg->mode, MODE_MONITOR, "enum is case-insensitive");
	tap_ok(cfg->soft_mode, "bool YES");
	tap_str(cfg->relay_reply.text, "No relaying for %{client_addr}, sorry #1",
	    "reply text keeps # and references");
	tap_ok(cfg->n_reroute == 1 && strcmp(cfg->reroute[0].from, "old.example") == 0 &&
		   strcmp(cfg->reroute[0].to, "new.example") == 0,
	    "reroute pair normalised");
	tap_str(cfg->socket, "inet:8890@127.0.0.1", "string value");
	config_free(cfg);
}

static void
test_broken(void)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
		{"no_such_key = 1\n", "t.conf:1: unknown key \"no_such_key\""},
		{"local_domains\n", "t.conf:1: expected \"key = value\""},
		{" = x\n", "t.conf:1: continuation line without a key before it"},
		{"= x\n", "t.conf:1: missing key before \"=\""},
		{"mode = enforce\nmode = monitor\n", "t.conf:2: mode already set at line 1"},
		{"mode = loud\n", "t.conf:1: mode: \"loud\" is not one of enforce | monitor"},
		{"soft_mode = maybe\n", "t.conf:1: soft_mode: \"maybe\" is not yes or no"},
		{"trusted_networks = 10.1.2.3/8\n",
		    "t.conf:1: trusted_networks: \"10.1.2.3/8\": host bits set after the prefix length"},
		{"trusted_networks = 300.0.0.1\n",
		    "t.conf:1: trusted_networks: \"300.0.0.1\": not an IP address or network"},
		{"local_domains = exa_mple.com, -bad.example\n",
		    "t.conf:1: local_domains: \"-bad.example\": not a valid domain name"},
		{"relay_reply = 250 2.0.0 fine\n",
		    "t.conf:1: relay_reply: reply code 250 is not a refusal (use 4xx or 5xx)"},
		{"relay_reply = 550 4.7.1 x\n",
		    "t.conf:1: relay_reply: enhanced code 4.7.1 does not match reply code 550 (RFC 3463: class 5)"},
		{"unknown_user_reply = 450 4.1.1 later\n",
		    "t.conf:1: unknown_user_reply: reply code 450 must be 5xx here"},
		{"reroute = nocolon\n", "t.conf:1: reroute: \"nocolon\": expected old.example:new.example"},
		{"local_domains = ./missing.list\n",
		    "t.conf:1: local_domains: cannot open DIR/missing.list: No such file or directory"},
		{"local_domains = ./bad.list\n", "bad.list:2: local_domains: \"not a domain\": not a valid domain name"},
		{"# two errors, both reported\nmode = x\nfoo = 1\n",
		    "t.conf:2: mode: \"x\" is not one of enforce | monitor|t.conf:3: unknown key \"foo\""},
	};
	char want[512];
	size_t i;

	write_file("bad.list", "good.example\nnot a domain\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *cfg;
		const char *got = diags_of(rows[i].text, &cfg);
		const char *p = strstr(rows[i].want, "DIR/");

		if (p != NULL)
			snprintf(want, sizeof(want), "%.*s%s/%s", (int)(p - rows[i].want), rows[i].want,
			    dir, p + 4);
		else
			snprintf(want, sizeof(want), "%s", rows[i].want);
		tap_ok(cfg == NULL, "broken file %zu refused", i + 1);
		tap_str(got, want, "  diagnostic");
		config_free(cfg);
	}
	{
		struct diag d;

		diag_init(&d);
		tap_ok(config_load("/nonexistent/relayguard.conf", &d) == NULL && d.errors == 1,
		    "missing file refused");
		tap_str(d.n ? d.msgs[0] : "", "/nonexistent/relayguard.conf: cannot open: No such file or directory",
		    "  diagnostic");
		diag_free(&d);
	}
}

/* Files others can write are refused; a sticky directory (like /tmp) is fine. */
static void
test_unsafe(void)
{
	char sub[200], path[260];
	struct config *cfg;
	struct diag d;
	FILE *fp;

	write_file("u.conf", "local_domains = example.com\n");
	snprintf(path, sizeof(path), "%s/u.conf", dir);
	chmod(path, 0666);
	diag_init(&d);
	cfg = config_load(path, &d);
	tap_ok(cfg == NULL, "world-writable config refused");
	tap_ok(d.n == 1 && strstr(d.msgs[0], "is writable by group or others (chmod go-w); refusing it") != NULL,
	    "  diagnostic names the problem: %s", d.n ? d.msgs[0] : "");
	diag_free(&d);
	config_free(cfg);

	snprintf(sub, sizeof(sub), "%s/open", dir);
	mkdir(sub, 0777);
	chmod(sub, 0777);
	snprintf(path, sizeof(path), "%s/open/c.conf", dir);
	fp = fopen(path, "w");
	fputs("mode = enforce\n", fp);
	fclose(fp);
	chmod(path, 0644);
	diag_init(&d);
	cfg = config_load(path, &d);
	tap_ok(cfg == NULL && d.n == 1 && strstr(d.msgs[0], "which is writable by group or others") != NULL,
	    "config in a world-writable directory refused");
	diag_free(&d);
	config_free(cfg);

	chmod(sub, 01777);
	diag_init(&d);
	cfg = config_load(path, &d);
	tap_ok(cfg != NULL, "config in a sticky world-writable directory (like /tmp) accepted");
	diag_free(&d);
	config_free(cfg);

	write_file("g.list", "example.org\n");
	snprintf(path, sizeof(path), "%s/g.list", dir);
	chmod(path, 0664);
	tap_ok(strstr(diags_of("local_domains = ./g.list\n", NULL), "g.list is writable by group or others") != NULL,
	    "group-writable list file refused");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/rgconf.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 99;
	test_defaults();
	test_values();
	test_broken();
	test_unsafe();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_ok(false, "cleanup");
	}
	return tap_done();
}
