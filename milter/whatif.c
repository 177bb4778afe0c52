/*
 * whatif.c - relayguard -t: read a session script (script.h), feed each
 * event to the same decision core the daemon uses and print one line per
 * event: the event as given, "=>", the verdict (action, SMTP code,
 * enhanced code, text) and what decided it in brackets.  Message changes
 * decided at eom follow on indented lines, and so does the name of a turf
 * copy written to turf_dir ("turf copy new/whatif.N": what-if copies are
 * real files, named so that transcripts are the same on every run).
 *
 * The MTA always ends the headers before the body; a script may leave
 * "eoh" out, and the first body line or eom then implies it, printed as
 * "(eoh)" when it is not a plain continue (a decision made among the
 * headers is answered there).
 *
 * Several sessions may follow one another in a script (each starts with
 * connect; "keep" leaves the current one open as a concurrent connection);
 * shared state (services, caches, counters) lives as long as the run, as
 * it lives as long as the daemon.  Counters a decision used follow its
 * line, indented ("    counter NAME[KEY] = VALUE ...").  Time is a
 * virtual clock that only "wait" advances, so a transcript prints the
 * same counters on every run.
 */
#include "autoconf.h"

#include <ctype.h>
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
#include "turf.h"

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

/* Further decisions of the event (they are logged lines of their own), indented. */
static void
print_also(FILE *out, struct session *s)
{
	struct verdict also[4];
	size_t i, n = session_take_also(s, also, 4);

	for (i = 0; i < n; i++) {
		fputs("    also: ", out);
		print_verdict(out, &also[i]);
	}
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

/* The counters the last decision of S used, one indented line each. */
static void
print_counters(FILE *out, const struct session *s)
{
	const char *p = session_counters(s), *nl;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		fprintf(out, "    counter %.*s\n", (int)(nl - p), p);
		if (*nl == '\0')
			break;
	}
}

/* One script session: the core's session and where its current message stands. */
struct wi_session {
	struct session *s;
	bool eoh_done;		/* end of headers reached in this message */
	struct session **kept;	/* earlier sessions left open by "keep" */
	size_t nkept;
};

/* End session S as the MTA's close would. */
static void
end_session(struct session *s)
{
	decide_close(s);
	session_free(s);
}

static void
wi_new_message(struct wi_session *w)
{
	w->eoh_done = false;
}

/* End of headers before the first body line or eom, as the MTA would. */
static void
implicit_eoh(struct wi_session *w, FILE *out)
{
	struct verdict v;

	if (w->eoh_done)
		return;
	w->eoh_done = true;
	decide_eoh(w->s, &v);
	if (v.action != ACT_CONTINUE || v.monitored) {
		fputs("(eoh) => ", out);
		print_verdict(out, &v);
		print_counters(out, w->s);
		print_also(out, w->s);
	}
}

static void
run_eom(struct wi_session *w, FILE *out)
{
	struct verdict v;
	const char *id;

	decide_eom(w->s, &v);
	print_verdict(out, &v);
	print_counters(out, w->s);
	print_also(out, w->s);
	print_changes(out, session_changes(w->s));
	if ((id = session_turf_id(w->s)) != NULL)
		fprintf(out, "    turf copy new/%s\n", id);
	decide_abort(w->s);
	wi_new_message(w);
}

static void
run_body(struct wi_session *w, const char *text, FILE *out)
{
	char line[CAP_CONF_LINE + 3];
	size_t n = strlen(text);
	struct verdict v;

	if (n > CAP_CONF_LINE)
		n = CAP_CONF_LINE;
	memcpy(line, text, n);
	memcpy(line + n, "\r\n", 2);
	decide_body(w->s, (const unsigned char *)line, n + 2, &v);
	print_verdict(out, &v);
	print_counters(out, w->s);
	print_also(out, w->s);
}

/* Start a session for "connect IP [NAME]"; false on error. */
static bool
run_connect(struct snapshot *snap, struct services *svc, struct wi_session *w,
    const struct script_event *ev, const char *where, FILE *out)
{
	struct verdict v;
	struct ipaddr ip;

	end_session(w->s);
	w->s = NULL;
	wi_new_message(w);
	if (!ipaddr_parse(ev->arg1, &ip)) {
		fprintf(out, "error: %s: \"%s\" is not an IP address\n", where, ev->arg1);
		return false;
	}
	if ((w->s = session_new(snap, svc)) == NULL) {
		fprintf(out, "error: out of memory\n");
		return false;
	}
	decide_connect(w->s, &ip, ev->arg2 ? ev->arg2 : "unknown", &v);
	print_verdict(out, &v);
	print_counters(out, w->s);
	print_also(out, w->s);
	return true;
}

/* "30s", "10m", "250ms", "2h", "1d" (bare numbers are seconds); -1 if malformed. */
static long
parse_wait(const char *text)
{
	static const struct {
		const char *unit;
		long ms;
	} units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	char *end;
	long n;
	size_t i;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	for (i = 0; errno == 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0 && n <= 30L * 86400000 / units[i].ms)
			return n * units[i].ms;
	return -1;
}

/* keep and wait: commands of the what-if itself, not SMTP events. */
static bool
run_control(struct services *svc, struct wi_session *w, const struct script_event *ev,
    const char *where, FILE *out)
{
	struct session **k;
	long ms;

	if (ev->cmd == SC_WAIT) {
		if ((ms = parse_wait(ev->arg1)) < 0) {
			fprintf(out, "error: %s: \"%s\" is not a duration such as 30s or 10m\n", where,
			    ev->arg1);
			return false;
		}
		svc->clock_ms += ms;
		fprintf(out, "ok\n");
		return true;
	}
	if (w->s == NULL) {
		fprintf(out, "error: %s: no session to keep\n", where);
		return false;
	}
	if ((k = realloc(w->kept, (w->nkept + 1) * sizeof(*k))) == NULL) {
		fprintf(out, "error: out of memory\n");
		return false;
	}
	w->kept = k;
	w->kept[w->nkept++] = w->s;
	w->s = NULL;
	wi_new_message(w);
	fprintf(out, "ok\n");
	return true;
}

/* Run one event on W (creating or ending the session as the event says); false on error. */
static bool
run_event(struct snapshot *snap, struct services *svc, struct wi_session *w,
    struct script_event *ev, const char *where, FILE *out)
{
	struct verdict v;
	struct ipaddr ip;

	if (ev->cmd == SC_CONNECT)
		return run_connect(snap, svc, w, ev, where, out);
	if (ev->cmd == SC_KEEP || ev->cmd == SC_WAIT)
		return run_control(svc, w, ev, where, out);
	if (w->s == NULL) {
		fprintf(out, "error: %s: no session (a script starts with connect)\n", where);
		return false;
	}
	switch (ev->cmd) {
	case SC_DAEMON:
		if (!ipaddr_parse(ev->arg1, &ip)) {
			fprintf(out, "error: %s: \"%s\" is not an IP address\n", where, ev->arg1);
			return false;
		}
		session_set_macro(w->s, "{daemon_addr}", ev->arg1);
		fprintf(out, "ok\n");
		return true;
	case SC_AUTH:
		session_set_macro(w->s, "{auth_authen}", ev->arg1);
		fprintf(out, "ok\n");
		return true;
	case SC_MACRO:
		session_set_macro(w->s, ev->arg1, ev->arg2);
		fprintf(out, "ok\n");
		return true;
	case SC_HELO: decide_helo(w->s, ev->arg1, &v); break;
	case SC_MAIL:
		wi_new_message(w);
		decide_mail(w->s, ev->arg1, ev->args, &v);
		break;
	case SC_RCPT: decide_rcpt(w->s, ev->arg1, ev->args, &v); break;
	case SC_DATA: decide_data(w->s, &v); break;
	case SC_HEADER:
		decide_header(w->s, ev->arg1, ev->arg2 ? ev->arg2 : "", &v);
		break;
	case SC_EOH:
		w->eoh_done = true;
		decide_eoh(w->s, &v);
		break;
	case SC_BODY:
		run_body(w, ev->arg1, out);
		return true;
	case SC_EOM:
		run_eom(w, out);
		return true;
	case SC_RSET:
		decide_abort(w->s);
		wi_new_message(w);
		fprintf(out, "ok\n");
		return true;
	case SC_QUIT:
		end_session(w->s);
		w->s = NULL;
		fprintf(out, "ok\n");
		return true;
	default:
		return true;
	}
	print_verdict(out, &v);
	print_counters(out, w->s);
	print_also(out, w->s);
	return true;
}

/* The virtual clock starts here (any value works; a round one reads well in a debugger). */
#define WHATIF_EPOCH_MS 1000000000L

int
whatif_run(struct snapshot *snap, const char *script, FILE *out)
{
	FILE *in = stdin;
	struct wi_session w = {NULL, false, NULL, 0};
	struct services svc;
	struct diag d;
	char line[CAP_CONF_LINE + 2], err[160];
	unsigned lineno = 0, errors = 0;
	size_t i;

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
	svc.clock_ms = WHATIF_EPOCH_MS;
	turf_stable_names(true);
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
		if ((ev.cmd == SC_BODY || ev.cmd == SC_EOM) && w.s != NULL)
			implicit_eoh(&w, out);
		fprintf(out, "%s => ", shown);
		if (!run_event(snap, &svc, &w, &ev, where, out))
			errors++;
	}
	end_session(w.s);
	for (i = 0; i < w.nkept; i++)
		end_session(w.kept[i]);
	free(w.kept);
	services_free(&svc);
	if (in != stdin)
		fclose(in);
	return errors ? 1 : 0;
}
