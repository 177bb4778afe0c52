/*
 * lineread.h - the line syntax relayguard.conf and rule files share, like
 * Postfix's main.cf: blank lines and lines whose first non-blank character
 * is "#" are skipped (also between continuation lines); a line that starts
 * with white space continues the logical line before it, joined with one
 * space.  No physical or logical line may be longer than CAP_CONF_LINE.
 * Problems are reported, never logged, as "file:line: problem".
 */
#ifndef RG_LINEREAD_H
#define RG_LINEREAD_H

#include <stdio.h>

#include "diag.h"

/* Called with one logical line (trimmed, writable) and the number of its first line. */
typedef void (*lineread_fn)(char *line, unsigned lineno, void *arg);

/*
 * Read FP (named PATH in diagnostics) and call FN for every logical line.
 * UNIT names a logical line in "UNIT longer than N bytes" ("value",
 * "rule"); HEAD what a continuation needs before it ("key", "rule").
 */
void lineread_logical(FILE *fp, const char *path, const char *unit, const char *head,
    struct diag *d, lineread_fn fn, void *arg);

#endif
