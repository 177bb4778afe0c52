/*
 * tap.h - a minimal Test Anything Protocol emitter for the unit tests.
 * Each test prints "ok N - name" or "not ok N - name" with got/want on
 * failure, and the plan at the end (tap_done returns the exit code).
 */
#ifndef RG_TAP_H
#define RG_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline bool
tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

/* Compare strings; print got/want as TAP diagnostics on mismatch. */
static inline bool
tap_str(const char *got, const char *want, const char *name)
{
	bool ok = (got == NULL && want == NULL) ||
		  (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_ok(ok, "%s", name);
	if (!ok)
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n", got ? got : "(null)",
		    want ? want : "(null)");
	return ok;
}

static inline bool
tap_int(long got, long want, const char *name)
{
	bool ok = got == want;

	tap_ok(ok, "%s", name);
	if (!ok)
		printf("#   got:  %ld\n#   want: %ld\n", got, want);
	return ok;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
