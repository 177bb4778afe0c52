/*
 * script.c - what-if script line parser (see script.h).  Pure; the
 * runner (milter/whatif.c) feeds the events to the decision core.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "script.h"

static const struct {
	const char *name;
	enum script_cmd cmd;
	int min, max;	/* count of plain arguments (ESMTP parameters aside) */
} commands[] = {
	{"connect", SC_CONNECT, 1, 2}, {"daemon", SC_DAEMON, 1, 1}, {"auth", SC_AUTH, 1, 1},
	{"macro", SC_MACRO, 2, 2},     {"helo", SC_HELO, 1, 1},     {"ehlo", SC_HELO, 1, 1},
	{"mail", SC_MAIL, 1, 1},       {"rcpt", SC_RCPT, 1, 1},     {"data", SC_DATA, 0, 0},
	{"header", SC_HEADER, 1, 2},   {"body", SC_BODY, 0, 1},     {"eom", SC_EOM, 0, 0},
	{"rset", SC_RSET, 0, 0},       {"quit", SC_QUIT, 0, 0},     {"eoh", SC_EOH, 0, 0},
	{"keep", SC_KEEP, 0, 0},       {"wait", SC_WAIT, 1, 1},
};

static char *
skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Cut the next blank-separated word at *P; NULL at the end of the line. */
static char *
next_word(char **p)
{
	char *w = skip_blanks(*p), *e;

	if (*w == '\0')
		return NULL;
	for (e = w; *e != '\0' && *e != ' ' && *e != '\t'; e++)
		;
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return w;
}

/* Cut an address: "<...>" with quotes honoured, or one word. */
static char *
next_path(char **p)
{
	char *w = skip_blanks(*p), *e;
	bool quoted = false;

	if (*w != '<')
		return next_word(p);
	for (e = w + 1; *e != '\0'; e++) {
		if (*e == '\\' && quoted && e[1] != '\0')
			e++;
		else if (*e == '"')
			quoted = !quoted;
		else if (*e == '>' && !quoted)
			break;
	}
	if (*e == '>')
		e++;
	if (*e != '\0')
		*e++ = '\0';
	*p = e;
	return w;
}

static bool
parse_path_cmd(char *rest, struct script_event *ev, char *err, size_t errsize)
{
	size_t n = 0;
	char *w;

	if ((ev->arg1 = next_path(&rest)) == NULL) {
		snprintf(err, errsize, "missing address");
		return false;
	}
	while ((w = next_word(&rest)) != NULL) {
		if (n == SCRIPT_MAX_ARGS) {
			snprintf(err, errsize, "more than %d ESMTP parameters", SCRIPT_MAX_ARGS);
			return false;
		}
		ev->args[n++] = w;
	}
	ev->args[n] = NULL;
	return true;
}

/* "Name: value" or "Name:value": split at the first colon. */
static bool
parse_header_cmd(char *rest, struct script_event *ev, char *err, size_t errsize)
{
	char *colon, *name = skip_blanks(rest), *e;

	if ((colon = strchr(name, ':')) == NULL || colon == name) {
		snprintf(err, errsize, "expected \"header Name: value\"");
		return false;
	}
	*colon = '\0';
	for (e = colon; e > name && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	ev->arg1 = name;
	ev->arg2 = skip_blanks(colon + 1);
	return true;
}

bool
script_parse_line(char *line, struct script_event *ev, char *err, size_t errsize)
{
	char *p, *cmd, *w;
	size_t i, len = strlen(line);
	int nargs = 0;

	memset(ev, 0, sizeof(*ev));
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	p = skip_blanks(line);
	if (*p == '\0' || *p == '#')
		return true;
	cmd = next_word(&p);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, cmd) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		snprintf(err, errsize, "unknown command \"%.40s\"", cmd);
		return false;
	}
	ev->cmd = commands[i].cmd;
	if (ev->cmd == SC_MAIL || ev->cmd == SC_RCPT)
		return parse_path_cmd(p, ev, err, errsize);
	if (ev->cmd == SC_HEADER)
		return parse_header_cmd(p, ev, err, errsize);
	if (ev->cmd == SC_BODY) {
		ev->arg1 = p; /* the one separating blank went with the command word */
		return true;
	}
	if (ev->cmd == SC_MACRO) {
		ev->arg1 = next_word(&p);
		ev->arg2 = ev->arg1 ? skip_blanks(p) : NULL;
		if (ev->arg1 == NULL || *ev->arg2 == '\0') {
			snprintf(err, errsize, "expected \"macro NAME VALUE\"");
			return false;
		}
		return true;
	}
	while ((w = next_word(&p)) != NULL) {
		if (nargs == commands[i].max) {
			snprintf(err, errsize, "%s: too many arguments", cmd);
			return false;
		}
		if (nargs++ == 0)
			ev->arg1 = w;
		else
			ev->arg2 = w;
	}
	if (nargs < commands[i].min) {
		snprintf(err, errsize, "%s: missing argument", cmd);
		return false;
	}
	return true;
}
