/*
 * fsafe.c - policy file ownership and permission checks (see fsafe.h).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsafe.h"

/* The directory part of PATH into BUF ("." when there is none). */
static void
dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		snprintf(buf, size, ".");
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

bool
fsafe_check(const char *path, int fd, char *err, size_t errsize)
{
	struct stat st;
	char dir[4096];

	if (fstat(fd, &st) != 0) {
		snprintf(err, errsize, "cannot stat");
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errsize, "is owned by uid %u, not root (chown root)", (unsigned)st.st_uid);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsize, "is writable by group or others (chmod go-w)");
		return false;
	}
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0) {
		snprintf(err, errsize, "cannot stat its directory %s", dir);
		return false;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errsize, "is in %s, which is writable by group or others (chmod go-w %s)",
		    dir, dir);
		return false;
	}
	return true;
}
