/*
 * log.h - the one place that writes log lines: to stderr (foreground,
 * what-if) or syslog facility mail (daemon).  Thread-safe: every call
 * writes one whole line.
 */
#ifndef RG_LOG_H
#define RG_LOG_H

#include <stdbool.h>
#include <syslog.h>

enum log_dest { LOG_DEST_STDERR = 0, LOG_DEST_SYSLOG, LOG_DEST_NONE };

/* Choose the destination; IDENT names the program in syslog. */
void log_init(const char *ident, enum log_dest dest);

/* Log at PRIO (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG). */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Show LOG_DEBUG lines too. */
void log_set_debug(bool on);

#endif
