/*
 * fsafe.h - ownership and permission checks for files that carry policy
 * (the configuration, list files, rule files), like Postfix's checks on
 * its own files: a file that others can change is a way to change the
 * policy without root.
 *
 * A file passes when it is owned by root or by the user relayguard runs
 * as, and neither it nor its directory is writable by group or others
 * (a directory with the sticky bit, such as /tmp, is allowed: others can
 * add files there but not replace ours).  Pure apart from the stat calls;
 * thread-safe.
 */
#ifndef RG_FSAFE_H
#define RG_FSAFE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Check PATH, already open as FD (checked with fstat, so the file checked
 * is the file read).  On failure returns false with the reason in ERR,
 * e.g. "is writable by group or others (chmod go-w)".
 */
bool fsafe_check(const char *path, int fd, char *err, size_t errsize);

#endif
