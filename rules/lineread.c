/*
 * lineread.c - logical lines of relayguard.conf and rule files (see
 * lineread.h).  Bounded buffers; a line that is too long ends the read
 * with a diagnostic, so nothing after it is half-understood.
 */
#include "autoconf.h"

#include <string.h>

#include "caps.h"
#include "lineread.h"
#include "strbuf.h"

void
lineread_logical(FILE *fp, const char *path, const char *unit, const char *head, struct diag *d,
    lineread_fn fn, void *arg)
{
	char raw[CAP_CONF_LINE + 2], logical[CAP_CONF_LINE + 2];
	unsigned lineno = 0, start = 0;
	struct strbuf sb;

	strbuf_init(&sb, logical, sizeof(logical));
	for (;;) {
		bool eof = fgets(raw, sizeof(raw), fp) == NULL;
		bool indented = !eof && (raw[0] == ' ' || raw[0] == '\t');
		char *t;

		if (!eof)
			lineno++;
		if (!eof && strlen(raw) > CAP_CONF_LINE) {
			diag_error(d, path, lineno, "line longer than %d bytes", CAP_CONF_LINE);
			break;
		}
		t = eof ? raw : str_trim(raw);
		if (!eof && (*t == '\0' || *t == '#'))
			continue; /* blank and comment lines, even between continuations */
		if (indented && sb.len > 0) {
			strbuf_addc(&sb, ' ');
			strbuf_add(&sb, t);
			continue;
		}
		if (sb.len > 0) {
			if (sb.truncated)
				diag_error(d, path, start, "%s longer than %d bytes", unit, CAP_CONF_LINE);
			else
				fn(logical, start, arg);
			strbuf_init(&sb, logical, sizeof(logical));
		}
		if (eof)
			break;
		if (indented) {
			diag_error(d, path, lineno, "continuation line without a %s before it", head);
			continue;
		}
		start = lineno;
		strbuf_add(&sb, t);
	}
}
