/*
 * turfcmd.c - "relayguard turf ...": the administrator's view of the turf
 * directory (DESIGN "Turf"):
 *
 *   relayguard [-c FILE] turf list                 id, time, size, rule, sender, recipients
 *   relayguard [-c FILE] turf show ID              the copy as stored
 *   relayguard [-c FILE] turf release ID           back through the MTA, then removed
 *   relayguard [-c FILE] turf purge --older-than DAYS
 *
 * turf_dir and sendmail_path come from the configuration.  A release runs
 * "sendmail -i -f SENDER -- RECIPIENTS" (the MTA's own injection command,
 * so the message gets the MTA's usual checks and queueing) with the
 * message, without our envelope block, on its standard input, for the
 * recipients the copy was turfed for; the copy is removed only when
 * sendmail said yes.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "relayguard.h"
#include "snapshot.h"
#include "strbuf.h"
#include "turf.h"

static int
usage(void)
{
	fprintf(stderr, "usage: relayguard [-c FILE] turf list\n"
	                "       relayguard [-c FILE] turf show ID\n"
	                "       relayguard [-c FILE] turf release ID\n"
	                "       relayguard [-c FILE] turf purge --older-than DAYS\n");
	return EXIT_USAGE;
}

/* Recipients the copy is for, joined by ", " into BUF. */
static void
join_turfed(const struct turf_entry *e, char *buf, size_t size)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, buf, size);
	for (i = 0; i < e->nrcpts; i++) {
		if (!e->turfed[i])
			continue;
		if (sb.len > 0)
			strbuf_add(&sb, ", ");
		strbuf_add(&sb, e->rcpts[i]);
	}
}

static int
cmd_list(const char *dir)
{
	char err[512], rcpts[4096];
	char **ids = turf_ids(dir, err, sizeof(err));
	int rc = 0;
	size_t i;

	if (ids == NULL) {
		fprintf(stderr, "relayguard: turf list: %s\n", err);
		return 1;
	}
	printf("# id\ttime\tsize\trule\tsender\trecipients\n");
	for (i = 0; ids[i] != NULL; i++) {
		struct turf_entry e;

		if (!turf_read(dir, ids[i], &e, err, sizeof(err))) {
			fprintf(stderr, "relayguard: turf list: %s\n", err);
			rc = 1;
			continue;
		}
		join_turfed(&e, rcpts, sizeof(rcpts));
		printf("%s\t%s\t%lld\t%s\t%s\t%s\n", e.id, e.time, (long long)e.msg_size, e.rule,
		       e.sender, rcpts);
		turf_entry_free(&e);
	}
	turf_ids_free(ids);
	return rc;
}

/* Copy the file at PATH from OFFSET to standard output. */
static bool
copy_out(const char *path, off_t offset)
{
	char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n;
	bool ok = true;

	if (fp == NULL || fseeko(fp, offset, SEEK_SET) != 0) {
		if (fp != NULL)
			fclose(fp);
		return false;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		ok = ok && fwrite(buf, 1, n, stdout) == n;
	ok = ok && !ferror(fp);
	fclose(fp);
	return fflush(stdout) == 0 && ok;
}

static int
cmd_show(const char *dir, const char *id)
{
	struct turf_entry e;
	char err[512];

	if (!turf_read(dir, id, &e, err, sizeof(err))) {
		fprintf(stderr, "relayguard: turf show: %s\n", err);
		return 1;
	}
	if (!copy_out(e.path, 0)) {
		fprintf(stderr, "relayguard: turf show: %s: %s\n", e.path, strerror(errno));
		turf_entry_free(&e);
		return 1;
	}
	turf_entry_free(&e);
	return 0;
}

/* PATH without surrounding blanks and one pair of angle brackets, copied. */
static char *
bare(const char *path)
{
	size_t len;

	while (*path == ' ')
		path++;
	len = strlen(path);
	while (len > 0 && path[len - 1] == ' ')
		len--;
	if (len >= 2 && path[0] == '<' && path[len - 1] == '>') {
		path++;
		len -= 2;
	}
	return strndup(path, len);
}

/* Run SENDMAIL -i -f SENDER -- RCPTS... with the message of E on stdin; its exit status or -1. */
static int
run_sendmail(const char *sendmail, const struct turf_entry *e, char **argv)
{
	pid_t pid;
	int fd, status;

	if ((fd = open(e->path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    lseek(fd, e->msg_offset, SEEK_SET) < 0) {
		fprintf(stderr, "relayguard: turf release: %s: %s\n", e->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "relayguard: turf release: fork: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd, STDIN_FILENO) < 0)
			_exit(127);
		execv(sendmail, argv);
		fprintf(stderr, "relayguard: turf release: %s: %s\n", sendmail, strerror(errno));
		_exit(127);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
cmd_release(const struct config *cfg, const char *id)
{
	struct turf_entry e;
	char err[512], **argv;
	size_t i, n = 0;
	int rc = 1, st;

	if (!turf_read(cfg->turf_dir, id, &e, err, sizeof(err))) {
		fprintf(stderr, "relayguard: turf release: %s\n", err);
		return 1;
	}
	if ((argv = calloc(e.nrcpts + 7, sizeof(*argv))) == NULL)
		goto out;
	argv[n++] = (char *)cfg->sendmail_path;
	argv[n++] = "-i";
	argv[n++] = "-f";
	argv[n++] = bare(e.sender); /* "" for the null sender */
	argv[n++] = "--";
	for (i = 0; i < e.nrcpts; i++)
		if (e.turfed[i])
			argv[n++] = bare(e.rcpts[i]);
	if (n == 5) {
		fprintf(stderr, "relayguard: turf release: %s names no recipient\n", id);
	} else if ((st = run_sendmail(cfg->sendmail_path, &e, argv)) != 0) {
		fprintf(stderr, "relayguard: turf release: %s exited with %d; %s is kept\n",
		        cfg->sendmail_path, st, id);
	} else if (!turf_remove(cfg->turf_dir, id, err, sizeof(err))) {
		fprintf(stderr, "relayguard: turf release: released, but cannot remove it: %s\n",
		        err);
	} else {
		printf("released %s to %zu recipient%s\n", id, n - 5, n == 6 ? "" : "s");
		rc = 0;
	}
	for (i = 3; i < n; i++)
		if (i != 4)
			free(argv[i]);
	free(argv);
out:
	turf_entry_free(&e);
	return rc;
}

static int
cmd_purge(const char *dir, const char *days)
{
	char *end, err[512];
	unsigned removed;
	long d;

	errno = 0;
	d = days ? strtol(days, &end, 10) : -1;
	if (days == NULL || *days == '\0' || *end != '\0' || errno != 0 || d < 0 || d > 36500) {
		fprintf(stderr, "relayguard: turf purge: --older-than takes a number of days\n");
		return EXIT_USAGE;
	}
	if (!turf_purge(dir, time(NULL) - (time_t)d * 86400, &removed, err, sizeof(err))) {
		fprintf(stderr, "relayguard: turf purge: %s\n", err);
		return 1;
	}
	printf("removed %u cop%s older than %ld day%s\n", removed, removed == 1 ? "y" : "ies", d,
	       d == 1 ? "" : "s");
	return 0;
}

int
turfcmd_main(const char *config, int argc, char **argv)
{
	const char *words[2] = {NULL, NULL}, *days = NULL;
	struct snapshot *snap;
	struct diag d;
	int i, nwords = 0, rc;

	/* After "turf": a command word, its argument, -c FILE, --older-than DAYS, in any order. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc)
			days = argv[++i];
		else if (strncmp(argv[i], "--older-than=", 13) == 0)
			days = argv[i] + 13;
		else if (argv[i][0] == '-' || nwords == 2)
			return usage();
		else
			words[nwords++] = argv[i];
	}
	if (words[0] == NULL)
		return usage();
	diag_init(&d);
	snap = snapshot_load(config, &d);
	if (snap == NULL) {
		diag_print(&d, stderr);
		diag_free(&d);
		return EXIT_CONFIG;
	}
	diag_free(&d);
	if (snap->cfg->turf_dir == NULL) {
		fprintf(stderr, "relayguard: turf_dir is not set in %s\n", config);
		snapshot_unref(snap);
		return EXIT_CONFIG;
	}
	if (strcmp(words[0], "list") == 0 && nwords == 1)
		rc = cmd_list(snap->cfg->turf_dir);
	else if (strcmp(words[0], "show") == 0 && nwords == 2)
		rc = cmd_show(snap->cfg->turf_dir, words[1]);
	else if (strcmp(words[0], "release") == 0 && nwords == 2)
		rc = cmd_release(snap->cfg, words[1]);
	else if (strcmp(words[0], "purge") == 0 && nwords == 1)
		rc = cmd_purge(snap->cfg->turf_dir, days);
	else
		rc = usage();
	snapshot_unref(snap);
	return rc;
}
