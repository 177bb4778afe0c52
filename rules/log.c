/*
 * log.c - log sink (see log.h).  stderr lines carry a timestamp and the
 * priority name; syslog lines go to facility mail.  One write per line so
 * lines from concurrent threads never interleave.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_dest log_dest = LOG_DEST_STDERR;
static bool log_debug;
static const char *log_ident = "relayguard";

void
log_init(const char *ident, enum log_dest dest)
{
	log_ident = ident;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_debug(bool on)
{
	log_debug = on;
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	case LOG_DEBUG:
		return "debug";
	default:
		return "log";
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char msg[2048], line[2200];
	va_list ap;
	int n;

	if (log_dest == LOG_DEST_NONE || (prio == LOG_DEBUG && !log_debug))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	{
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s\n", ts, log_ident,
		    (long)getpid(), prio_name(prio), msg);
	}
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

		if (write(STDERR_FILENO, line, len) < 0) {
			/* nowhere left to report it */
		}
	}
}
