/*
 * test_script.c - the what-if script reader: every command, quoting in
 * paths, ESMTP parameters, and refused lines.
 */
#include "autoconf.h"

#include "script.h"
#include "tap.h"

static bool
parse(const char *text, struct script_event *ev, char *err)
{
	static char line[1024];

	snprintf(line, sizeof(line), "%s", text);
	err[0] = '\0';
	return script_parse_line(line, ev, err, 160);
}

int
main(void)
{
	struct script_event ev;
	char err[160];

	tap_ok(parse("connect 192.0.2.1 mail.example.net\n", &ev, err) && ev.cmd == SC_CONNECT &&
		   strcmp(ev.arg1, "192.0.2.1") == 0 && strcmp(ev.arg2, "mail.example.net") == 0,
	    "connect with name");
	tap_ok(parse("connect ::1", &ev, err) && ev.arg2 == NULL, "connect without name");
	tap_ok(parse("mail <\"a b\"@example.com> SIZE=100 BODY=8BITMIME", &ev, err) &&
		   ev.cmd == SC_MAIL && strcmp(ev.arg1, "<\"a b\"@example.com>") == 0 &&
		   strcmp(ev.args[0], "SIZE=100") == 0 && strcmp(ev.args[1], "BODY=8BITMIME") == 0 &&
		   ev.args[2] == NULL,
	    "mail with quoted space and ESMTP parameters");
	tap_ok(parse("rcpt <\"x>y\"@example.com>", &ev, err) && strcmp(ev.arg1, "<\"x>y\"@example.com>") == 0,
	    "rcpt with > inside quotes");
	tap_ok(parse("rcpt bare@example.com", &ev, err) && strcmp(ev.arg1, "bare@example.com") == 0,
	    "rcpt without brackets");
	tap_ok(parse("header Subject:  hello: world ", &ev, err) && ev.cmd == SC_HEADER &&
		   strcmp(ev.arg1, "Subject") == 0 && strcmp(ev.arg2, "hello: world ") == 0,
	    "header keeps the value after the first colon");
	tap_ok(parse("header X-Empty:", &ev, err) && strcmp(ev.arg2, "") == 0, "empty header value");
	tap_ok(parse("body  two spaces", &ev, err) && strcmp(ev.arg1, " two spaces") == 0,
	    "body keeps leading blanks after one separator");
	tap_ok(parse("macro {rcpt_addr} user@else.test", &ev, err) && ev.cmd == SC_MACRO &&
		   strcmp(ev.arg2, "user@else.test") == 0,
	    "macro");
	tap_ok(parse("  # a comment", &ev, err) && ev.cmd == SC_COMMENT, "comment");
	tap_ok(parse("", &ev, err) && ev.cmd == SC_COMMENT, "blank line");
	tap_ok(parse("eom", &ev, err) && ev.cmd == SC_EOM, "eom");
	tap_ok(parse("ehlo x.example", &ev, err) && ev.cmd == SC_HELO, "ehlo is helo");
	tap_ok(parse("keep", &ev, err) && ev.cmd == SC_KEEP, "keep");
	tap_ok(parse("wait 90s", &ev, err) && ev.cmd == SC_WAIT && strcmp(ev.arg1, "90s") == 0, "wait");
	tap_ok(!parse("wait", &ev, err), "wait needs a duration");
	tap_str(err, "wait: missing argument", "  diagnostic");
	tap_ok(!parse("keep 2", &ev, err), "keep takes nothing");
	tap_ok(!parse("frobnicate now", &ev, err), "unknown command refused");
	tap_str(err, "unknown command \"frobnicate\"", "  diagnostic");
	tap_ok(!parse("connect", &ev, err), "connect needs an address");
	tap_str(err, "connect: missing argument", "  diagnostic");
	tap_ok(!parse("helo a b", &ev, err), "helo takes one name");
	tap_str(err, "helo: too many arguments", "  diagnostic");
	tap_ok(!parse("header NoColon", &ev, err), "header needs a colon");
	tap_ok(!parse("mail", &ev, err), "mail needs an address");
	tap_ok(!parse("macro {x}", &ev, err), "macro needs a value");
	tap_ok(!parse("mail <a@b> 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", &ev, err),
	    "too many ESMTP parameters refused");
	return tap_done();
}
