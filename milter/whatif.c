/*
 * whatif.c - relayguard -t: read a session script (script.h), feed each
 * event to the same decision core the daemon uses and print one line per
 * event: the event as given, "=>", the verdict (action, SMTP code,
 * enhanced code, text) and what decided it in brackets.  Message changes
 * decided at eom follow on indented lines.
 *
 * Several sessions may follow one another in a script (each starts with
 * connect); shared state (services, caches, counters) lives as long as
 * the run, as it lives as long as the daemon.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "decide.h"
#include "relayguard.h"
#include "script.h"
#include "services.h"
#include "session.h"
#include "strbuf.h"

static void
print_verdict(FILE *out, const struct verdict *v)
{
	enum action a = v->monitored ? v->would : v->action;

	fputs(action_name(v->action), out);
	if (v->monitored)
		fprintf(out, " (monitor: would %s", action_name(a));
	if (action_is_refusal(a))
		fprintf(out, " %s %s %s", v->reply.code, v->reply.xcode, v->reply.text);
	if (v->monitored)
		fputc(')', out);
	if (a == ACT_QUARANTINE && v->reason[0] != '\0')
		fprintf(out, " \"%s\"", v->reason);
	if (v->by[0] != '\0') {
		fprintf(out, " [%s", v->by);
		if (v->detail[0] != '\0')
			fprintf(out, ": %s", v->detail);
		fputc(']', out);
	} else if (v->detail[0] != '\0') {
		fprintf(out, " [%s]", v->detail); /* what the checks that passed saw */
	}
	fputc('\n', out);
}

static void
print_changes(FILE *out, const struct changes *c)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++) {
		const struct hdr_change *h = &c->hdrs[i];

		if (h->op == HDR_ADD)
			fprintf(out, "    add header %s: %s\n", h->name, h->value);
		else if (h->op == HDR_INSERT)
			fprintf(out, "    insert header at %d %s: %s\n", h->index, h->name, h->value);
		else
			fprintf(out, "    delete header %s #%d\n", h->name, h->index);
	}
	for (i = 0; i < c->nrcpts; i++)
		fprintf(out, "    %s recipient %s\n", c->rcpts[i].op == RCPT_ADD ? "add" : "delete",
		    c->rcpts[i].addr);
	if (c->quarantine != NULL)
		fprintf(out, "    quarantine \"%s\"\n", c->quarantine);
}

/* Run one event on *SP (creating or ending the session as the event says); false on error. */
static bool
run_event(struct snapshot *snap, struct services *svc, struct session **sp, struct script_event *ev, const char *where,
    FILE *out)
{
	struct verdict v;
	struct ipaddr ip;

	if (ev->cmd == SC_CONNECT) {
		session_free(*sp);
		*sp = NULL;
		if (!ipaddr_parse(ev->arg1, &ip)) {
			fprintf(out, "error: %s: \"%s\" is not an IP address\n", where, ev->arg1);
			return false;
		}
		if ((*sp = session_new(snap, svc)) == NULL) {
			fprintf(out, "error: out of memory\n");
			return false;
		}
		decide_connect(*sp, &ip, ev->arg2 ? ev->arg2 : "unknown", &v);
		print_verdict(out, &v);
		return true;
	}
	if (*sp == NULL) {
		fprintf(out, "error: %s: no session (a script starts with connect)\n", where);
		return false;
	}
	switch (ev->cmd) {
	case SC_DAEMON:
		if (!ipaddr_parse(ev->arg1, &ip)) {
			fprintf(out, "error: %s: \"%s\" is not an IP address\n", where, ev->arg1);
			return false;
		}
		session_set_macro(*sp, "{daemon_addr}", ev->arg1);
		fprintf(out, "ok\n");
		return true;
	case SC_AUTH:
		session_set_macro(*sp, "{auth_authen}", ev->arg1);
		fprintf(out, "ok\n");
		return true;
	case SC_MACRO:
		session_set_macro(*sp, ev->arg1, ev->arg2);
		fprintf(out, "ok\n");
		return true;
	case SC_HELO: decide_helo(*sp, ev->arg1, &v); break;
	case SC_MAIL: decide_mail(*sp, ev->arg1, ev->args, &v); break;
	case SC_RCPT: decide_rcpt(*sp, ev->arg1, ev->args, &v); break;
	case SC_DATA: decide_data(*sp, &v); break;
	case SC_HEADER: decide_header(*sp, ev->arg1, ev->arg2 ? ev->arg2 : "", &v); break;
	case SC_BODY: {
		char line[CAP_CONF_LINE + 3];
		size_t n = strlen(ev->arg1);

		if (n > CAP_CONF_LINE)
			n = CAP_CONF_LINE;
		memcpy(line, ev->arg1, n);
		memcpy(line + n, "\r\n", 2);
		decide_body(*sp, (const unsigned char *)line, n + 2, &v);
		break;
	}
	case SC_EOM:
		decide_eom(*sp, &v);
		print_verdict(out, &v);
		print_changes(out, session_changes(*sp));
		decide_abort(*sp);
		return true;
	case SC_RSET:
		decide_abort(*sp);
		fprintf(out, "ok\n");
		return true;
	case SC_QUIT:
		session_free(*sp);
		*sp = NULL;
		fprintf(out, "ok\n");
		return true;
	default:
		return true;
	}
	print_verdict(out, &v);
	return true;
}

int
whatif_run(struct snapshot *snap, const char *script, FILE *out)
{
	FILE *in = stdin;
	struct session *s = NULL;
	struct services svc;
	struct diag d;
	char line[CAP_CONF_LINE + 2], err[160];
	unsigned lineno = 0, errors = 0;

	if (script != NULL && (in = fopen(script, "r")) == NULL) {
		fprintf(stderr, "relayguard: %s: %s\n", script, strerror(errno));
		return 1;
	}
	diag_init(&d);
	if (!services_init(&svc, snap->cfg, &d)) {
		diag_print(&d, stderr);
		diag_free(&d);
		if (in != stdin)
			fclose(in);
		return EXIT_CONFIG;
	}
	diag_free(&d);
	while (fgets(line, sizeof(line), in) != NULL) {
		struct script_event ev;
		char shown[2 * sizeof(line)], where[300];
		struct strbuf sb;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		strbuf_init(&sb, shown, sizeof(shown));
		strbuf_add_printable(&sb, line, sizeof(line));
		snprintf(where, sizeof(where), "%s:%u", script ? script : "stdin", lineno);
		if (!script_parse_line(line, &ev, err, sizeof(err))) {
			fprintf(out, "%s => error: %s: %s\n", shown, where, err);
			errors++;
			continue;
		}
		if (ev.cmd == SC_COMMENT) {
			fprintf(out, "%s\n", shown);
			continue;
		}
		fprintf(out, "%s => ", shown);
		if (!run_event(snap, &svc, &s, &ev, where, out))
			errors++;
	}
	session_free(s);
	services_free(&svc);
	if (in != stdin)
		fclose(in);
	return errors ? 1 : 0;
}
