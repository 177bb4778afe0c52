/*
 * diag.c - diagnostics list (see diag.h).  Out of memory while recording
 * a diagnostic still counts the error, so a failing load never looks
 * successful.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "strbuf.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
diag_free(struct diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	diag_init(d);
}

static void
diag_add(struct diag *d, const char *file, unsigned line, const char *kind, const char *fmt,
    va_list ap)
{
	char buf[1024], msg[768];
	struct strbuf sb;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	strbuf_init(&sb, buf, sizeof(buf));
	if (file != NULL) {
		strbuf_add(&sb, file);
		if (line > 0)
			strbuf_addf(&sb, ":%u", line);
		strbuf_add(&sb, ": ");
	}
	strbuf_add(&sb, kind);
	strbuf_add(&sb, msg);
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		char **n = realloc(d->msgs, ncap * sizeof(*n));

		if (n == NULL)
			return;
		d->msgs = n;
		d->cap = ncap;
	}
	if ((d->msgs[d->n] = strdup(buf)) != NULL)
		d->n++;
}

void
diag_error(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	d->errors++;
	va_start(ap, fmt);
	diag_add(d, file, line, "", fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	va_start(ap, fmt);
	diag_add(d, file, line, "warning: ", fmt, ap);
	va_end(ap);
}

void
diag_print(const struct diag *d, FILE *fp)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", d->msgs[i]);
}
