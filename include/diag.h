/*
 * diag.h - diagnostics collected by parsers: "file:line: problem".
 *
 * Parsers never log (STYLE 8).  They add every problem they find to a
 * struct diag and report failure; the caller prints them (relayguard -n,
 * startup) or logs them (reload).  A diag owns its messages.
 */
#ifndef RG_DIAG_H
#define RG_DIAG_H

#include <stdio.h>

struct diag {
	char **msgs;	/* "file:line: problem" or "file:line: warning: problem" */
	size_t n, cap;
	unsigned errors;   /* count of errors (warnings do not count) */
	unsigned warnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);	/* accepts NULL; leaves D empty and reusable */

/* Record an error at FILE:LINE (LINE 0 omits the line number). */
void diag_error(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a warning: loading still succeeds. */
void diag_warn(struct diag *d, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print every message, one per line, to FP. */
void diag_print(const struct diag *d, FILE *fp);

#endif
