/*
 * test_ruleset.c - loading rule files as one set: globs in name order,
 * continuation lines, every problem of every file reported, all or
 * nothing, unsafe files and directories refused, rule ids for
 * monitor_checks, what the set needs from the MTA.  Files live in a
 * private temporary directory.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ruleset.h"
#include "snapshot.h"
#include "tap.h"

static char dir[64];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

/* Load CONF (written as t.conf); diagnostics joined by "|" with DIR/ removed. */
static const char *
load(const char *conf, struct snapshot **out)
{
	static char joined[4096];
	char path[200];
	struct diag d;
	size_t i, n = 0, dl = strlen(dir) + 1;

	write_file("t.conf", conf, 0644);
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	diag_init(&d);
	*out = snapshot_load(path, &d);
	joined[0] = '\0';
	for (i = 0; i < d.n; i++) {
		char *m = d.msgs[i], *p;

		while ((p = strstr(m, dir)) != NULL)
			memmove(p, p + dl, strlen(p + dl) + 1);
		n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%s%s", i ? "|" : "", m);
	}
	diag_free(&d);
	return joined;
}

static void
test_order_and_ids(void)
{
	struct snapshot *snap;

	mkdir(strcat(strcpy((char[80]){0}, dir), "/rules.d"), 0755);
	write_file("rules.d/20-b.rules", "# second file\nrcpt /b/ OK\n", 0644);
	write_file("rules.d/10-a.rules",
	    "rcpt /a/\n"
	    "   # a comment inside a continuation\n"
	    "\tREJECT 550 5.7.1 joined\n"
	    "\n"
	    "named-one: header Subject /x/ WARN x\n",
	    0644);
	tap_str(load("rules = rules.d/*.rules\nmonitor_checks = named-one, rules.d/20-b.rules:2\n", &snap), "",
	    "a glob of two files loads; ids relative to the configuration's directory");
	tap_int((long)ruleset_count(snap->rules), 3, "three rules");
	tap_ok(ruleset_has_id(snap->rules, "named-one"), "a named rule's id is its name");
	tap_ok(ruleset_needs(snap->rules) == NEED_HEADERS, "a header rule needs headers, no body rule: no body");
	tap_ok(snap->cfg->nwatched == 4, "config, directory and both rule files are watched (%zu)",
	    snap->cfg->nwatched);
	{
		struct snapshot *again;
		char changed[1024];

		write_file("rules.d/20-b.rules", "# second file, edited\nrcpt /b/ OK\n", 0644);
		load("rules = rules.d/*.rules\nmonitor_checks = named-one, rules.d/20-b.rules:2\n", &again);
		config_diff(snap->cfg, again->cfg, changed, sizeof(changed));
		tap_ok(strstr(changed, "/rules.d/20-b.rules") != NULL && strstr(changed, "10-a") == NULL,
		    "a reload names the edited rule file as changed (%s)", changed);
		snapshot_unref(again);
	}
	snapshot_unref(snap);

	write_file("rules.d/30-c.rules", "body /x/ WARN x\nnamed-one: rcpt /y/ OK\n", 0644);
	tap_str(load("rules = rules.d/*.rules\n", &snap),
	    "rules.d/30-c.rules:2: rule name \"named-one\" is used by an earlier rule", "duplicate names");
	tap_ok(snap == NULL, "... refuse the set");
	unlink(strcat(strcpy((char[80]){0}, dir), "/rules.d/30-c.rules"));
}

static void
test_errors(void)
{
	struct snapshot *snap;

	write_file("bad1.rules", "rcpt /x/ REJCT no\nrcpt /ok/ OK\nmail /(/ OK\n", 0644);
	write_file("bad2.rules", "\tcontinued\nhelo /x/ RELAY\n", 0644);
	tap_str(load("rules = bad1.rules bad2.rules\n", &snap),
	    "bad1.rules:1: unknown action \"REJCT\" (actions: OK, DUNNO, REJECT, DEFER, TEMPFAIL, 4NN, 5NN, "
	    "DISCARD, TURF, QUARANTINE, PREPEND, WARN, RELAY, SKIP)|"
	    "bad1.rules:3: bad pattern /(/: missing closing parenthesis at offset 1|"
	    "bad2.rules:1: continuation line without a rule before it|"
	    "bad2.rules:2: RELAY is allowed at connect and rcpt only (RFC 2505 2.1: relaying is decided on the "
	    "client and the recipient, never on HELO or MAIL FROM)",
	    "every problem of every file");
	tap_ok(snap == NULL, "any error loads nothing");

	tap_str(load("rules = missing.rules\n", &snap),
	    "t.conf: rules: cannot open missing.rules: No such file or directory", "a missing file");
	tap_str(load("rules = nodir/*.rules\n", &snap),
	    "t.conf: rules: cannot read the directory nodir: No such file or directory", "a missing directory");
	tap_str(load("rules = rules.d/*.nothing\n", &snap), "", "a glob that matches nothing is an empty set");
	tap_int((long)ruleset_count(snap ? snap->rules : NULL), 0, "... with no rules");
	snapshot_unref(snap);

	write_file("open.rules", "rcpt /x/ OK\n", 0664);
	tap_str(load("rules = open.rules\n", &snap),
	    "open.rules: is writable by group or others (chmod go-w); refusing it", "group-writable file refused");
	mkdir(strcat(strcpy((char[80]){0}, dir), "/shared"), 0755);
	chmod(strcat(strcpy((char[80]){0}, dir), "/shared"), 0775);
	write_file("shared/x.rules", "rcpt /x/ OK\n", 0644);
	tap_str(load("rules = shared/x.rules\n", &snap),
	    "shared/x.rules: is in shared, which is writable by group or others (chmod go-w shared); refusing it",
	    "a file in a group-writable directory refused");

	write_file("ok.rules", "rcpt /x/ OK\n", 0644);
	tap_str(load("rules = ok.rules\nmonitor_checks = ok.rules:9\n", &snap),
	    "t.conf: monitor_checks: no check or rule named \"ok.rules:9\"", "monitor_checks names a missing rule");
	tap_str(load("rules = ok.rules, ok.rules ./ok.rules\n", &snap), "", "one file named three times");
	tap_int((long)ruleset_count(snap ? snap->rules : NULL), 1, "... loads once");
	snapshot_unref(snap);
}

static void
test_from_text(void)
{
	struct diag d;
	struct ruleset *rs;

	diag_init(&d);
	rs = ruleset_from_text("body /x/ WARN x\nheader /y/ OK\n", "mem", 1000, &d);
	tap_ok(rs != NULL && ruleset_needs(rs) == (NEED_HEADERS | NEED_BODY), "body and header rules need both");
	ruleset_free(rs);
	rs = ruleset_from_text("rcpt /x/ TURF\n", "mem", 1000, &d);
	tap_ok(rs != NULL && ruleset_needs(rs) == 0, "a TURF at RCPT needs no copy of every message");
	ruleset_free(rs);
	rs = ruleset_from_text("mail /x/ TURF\n", "mem", 1000, &d);
	tap_ok(rs != NULL && ruleset_needs(rs) == NEED_TURF_COPY, "a TURF carried out at eom keeps a copy of every message");
	ruleset_free(rs);
	rs = ruleset_from_text("rcpt /x/\n  if\n", "mem", 1000, &d);
	tap_str(d.n ? d.msgs[0] : "", "mem:1: missing condition after \"if\" or \"and\"", "continuation joined");
	ruleset_free(rs);
	diag_free(&d);
}

int
main(void)
{
	char cmd[100];

	snprintf(dir, sizeof(dir), "/tmp/rgset.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 99;
	chmod(dir, 0755);
	test_order_and_ids();
	test_errors();
	test_from_text();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 99;
	return tap_done();
}
