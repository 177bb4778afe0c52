/*
 * test_turf.c - the turf directory writer and reader: the Maildir steps,
 * CR LF handling across chunks, the 64 KiB spill, the size cap, a missing
 * directory, a read-only directory (as an unprivileged user: root writes
 * anywhere), an envelope that a message cannot extend, names, listing,
 * removal and purge.  Everything happens under a private temporary
 * directory.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "turf.h"

static char base[64];

/* Number of entries (not . and ..) in DIR/SUB; -1 if it cannot be read. */
static int
count_files(const char *dir, const char *sub)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* The whole file DIR/new/ID, malloc'd. */
static char *
slurp(const char *dir, const char *id, size_t *len)
{
	char path[512], *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/new/%s", dir, id);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static const char *const rcpts2[] = {"<a@example.com>", "<b@example.com>"};
static const bool turfed2[] = {true, false};

static struct turf_envelope
envelope(void)
{
	struct turf_envelope env = {"loop",
	                            "first message Q1",
	                            "Q9",
	                            "mx.example.net [192.0.2.1]",
	                            "mx.example.net",
	                            "<>",
	                            rcpts2,
	                            turfed2,
	                            2,
	                            86400};

	return env;
}

/* A fresh turf_dir under BASE. */
static const char *
newdir(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", base, name);
	mkdir(path, 0700);
	return path;
}

static void
test_commit_and_read(void)
{
	const char *dir = newdir("t1");
	struct turf_spool *sp = turf_spool_new(dir, 1 << 20);
	struct turf_envelope env = envelope();
	struct turf_entry e;
	char id[TURF_ID_MAX + 1], err[300], *file, *msg;
	size_t len;

	turf_spool_add(sp, "Subject: hi\r", 12);
	turf_spool_add(sp, "\n\r\nline one\r\nlone\rcr\r\n", 22);
	turf_spool_add(sp, "last\r", 5);
	tap_ok(turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err)), "commit (%s)", err);
	tap_int(count_files(dir, "tmp"), 0, "nothing left in tmp/");
	tap_int(count_files(dir, "new"), 1, "one copy in new/");
	tap_int(count_files(dir, "cur"), 0, "cur/ made, empty");
	file = slurp(dir, id, &len);
	msg = file ? strstr(file, "X-Relayguard-End: envelope\n") : NULL;
	tap_ok(file != NULL && strncmp(file, "X-Relayguard-Turf: ", 19) == 0,
	       "first line names the copy");
	tap_ok(msg != NULL, "envelope block ends with X-Relayguard-End");
	if (msg != NULL)
		tap_str(msg + 27, "Subject: hi\n\nline one\nlone\rcr\nlast\r",
		        "message kept: CR LF -> LF, also across calls; lone CR kept");
	tap_ok(file && strstr(file, "X-Relayguard-Time: 1970-01-02T00:00:00Z\n"), "time in UTC");
	tap_ok(file && strstr(file, "X-Relayguard-Recipient: <b@example.com> passed\n"),
	       "passed recipient");
	free(file);

	tap_ok(turf_read(dir, id, &e, err, sizeof(err)), "read back (%s)", err);
	tap_str(e.rule, "loop", "rule");
	tap_str(e.detail, "first message Q1", "detail");
	tap_str(e.queue_id, "Q9", "queue id");
	tap_str(e.client, "mx.example.net [192.0.2.1]", "client");
	tap_str(e.helo, "mx.example.net", "helo");
	tap_str(e.sender, "<>", "null sender");
	tap_int((long)e.nrcpts, 2, "two recipients");
	tap_ok(e.nrcpts == 2 && e.turfed[0] && !e.turfed[1], "first turfed, second passed");
	tap_int((long)e.msg_size, 35, "message size without the envelope");
	turf_entry_free(&e);
	turf_spool_free(sp);
}

/* A message that carries our own header names cannot change the envelope. */
static void
test_envelope_is_ours(void)
{
	const char *dir = newdir("t2");
	struct turf_spool *sp = turf_spool_new(dir, 1 << 20);
	const char *evil_rcpt[] = {
	    "<a@example.com>\r\nX-Relayguard-Recipient: <evil@example.net> turfed"};
	struct turf_envelope env = envelope();
	struct turf_entry e;
	char id[TURF_ID_MAX + 1], err[300];
	const char *m =
	    "X-Relayguard-Recipient: <evil@example.net> turfed\nX-Relayguard-End: x\n\nbody\n";

	env.rcpts = evil_rcpt;
	env.turfed = NULL;
	env.nrcpts = 1;
	turf_spool_add(sp, m, strlen(m));
	turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err));
	tap_ok(turf_read(dir, id, &e, err, sizeof(err)), "read back (%s)", err);
	tap_int((long)e.nrcpts, 1, "one recipient: neither the value nor the message adds one");
	tap_ok(e.nrcpts == 1 && strstr(e.rcpts[0], "\\x0d\\x0a") != NULL,
	       "CR LF in a value made printable: %s", e.nrcpts ? e.rcpts[0] : "");
	tap_int((long)e.msg_size, (long)strlen(m),
	        "the message's own X-Relayguard lines are message");
	turf_entry_free(&e);
	turf_spool_free(sp);
}

static void
test_spill_and_cap(void)
{
	const char *dir = newdir("t3");
	struct turf_spool *sp = turf_spool_new(dir, 300000);
	struct turf_envelope env = envelope();
	char chunk[10000], id[TURF_ID_MAX + 1], err[300], *file;
	size_t i, len;
	int e;

	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 20; i++)
		turf_spool_add(sp, chunk, sizeof(chunk));
	tap_int(turf_spool_state(sp, &e), SPOOL_OK, "200 kB spooled (spilled past 64 KiB)");
	tap_int(count_files(dir, "tmp"), 0, "the spill file is not visible in tmp/");
	tap_ok(turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err)),
	       "commit from the spill file");
	file = slurp(dir, id, &len);
	tap_ok(file && strstr(file, "X-Relayguard-End: envelope\n") &&
	           strlen(strstr(file, "X-Relayguard-End: envelope\n") + 27) == 200000,
	       "all 200000 bytes in the copy");
	free(file);
	for (i = 0; i < 11; i++)
		turf_spool_add(sp, chunk, sizeof(chunk));
	tap_int(turf_spool_state(sp, &e), SPOOL_OVER, "past the maximum: over");
	tap_ok(!turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err)),
	       "an over spool is not committed");
	tap_str(err, "message over turf_max_size", "and says why");
	turf_spool_free(sp);
}

static void
test_missing_dir(void)
{
	char dir[256], id[TURF_ID_MAX + 1], err[300];
	struct turf_spool *sp;
	struct turf_envelope env = envelope();
	char chunk[70000];
	int e;

	snprintf(dir, sizeof(dir), "%s/no-such-dir", base);
	sp = turf_spool_new(dir, 1 << 20);
	turf_spool_add(sp, "small", 5);
	tap_ok(!turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err)),
	       "no commit into a missing directory");
	tap_ok(strstr(err, "No such file or directory") != NULL, "error says so: %s", err);
	tap_ok(access(dir, F_OK) != 0, "turf_dir is not created by us");
	memset(chunk, 'y', sizeof(chunk));
	turf_spool_add(sp, chunk, sizeof(chunk));
	tap_int(turf_spool_state(sp, &e), SPOOL_FAILED, "spilling into a missing directory fails");
	tap_int(e, ENOENT, "with ENOENT");
	turf_spool_free(sp);

	snprintf(dir, sizeof(dir), "%s/a-file", base);
	fclose(fopen(dir, "w"));
	sp = turf_spool_new(dir, 1 << 20);
	tap_ok(!turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err)) &&
	           strstr(err, "Not a directory"),
	       "a file is no turf_dir: %s", err);
	turf_spool_free(sp);
}

/* Commit into DIR as this (unprivileged) user: 0 when it fails with EACCES and leaves nothing. */
static int
readonly_child(const char *dir)
{
	struct turf_spool *sp = turf_spool_new(dir, 1 << 20);
	struct turf_envelope env = envelope();
	char id[TURF_ID_MAX + 1], err[300];
	bool ok;

	turf_spool_add(sp, "x\n", 2);
	ok = !turf_commit(dir, sp, &env, id, sizeof(id), err, sizeof(err));
	printf("# %s: %s\n", dir, ok ? err : "written");
	fflush(stdout);
	turf_spool_free(sp);
	return ok && strstr(err, "Permission denied") != NULL && count_files(dir, "new") <= 0 &&
	               count_files(dir, "tmp") <= 0
	           ? 0
	           : 2;
}

/* Run readonly_child(DIR) as nobody when we are root (root ignores permissions). */
static int
as_nobody(const char *dir)
{
	struct passwd *pw = getpwnam("nobody");
	pid_t pid;
	int status = -1;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 &&
		    (pw == NULL || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0))
			_exit(3);
		_exit(readonly_child(dir));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Give DIR (and what is below it) to nobody when we are root. */
static void
give_away(const char *dir)
{
	struct passwd *pw = getpwnam("nobody");
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "chown -R %u:%u '%s'", pw ? (unsigned)pw->pw_uid : 0,
	         pw ? (unsigned)pw->pw_gid : 0, dir);
	if (geteuid() == 0 && system(cmd) != 0)
		fprintf(stderr, "%s failed\n", cmd);
}

static void
test_readonly(void)
{
	const char *dir;
	char sub[300];

	if (geteuid() == 0 && getpwnam("nobody") == NULL) {
		tap_ok(true, "# SKIP no user nobody to test permissions as");
		tap_ok(true, "# SKIP no user nobody to test permissions as");
		return;
	}
	chmod(base, 0755);
	dir = newdir("t5");
	give_away(dir);
	chmod(dir, 0500);
	tap_int(as_nobody(dir), 0, "read-only turf_dir: no commit, EACCES, nothing left");
	dir = newdir("t6");
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	mkdir(sub, 0700);
	give_away(dir);
	chmod(sub, 0500);
	tap_int(as_nobody(dir), 0, "read-only new/: no commit, and the tmp/ file is removed again");
	chmod(base, 0700);
}

static void
test_names_list_purge(void)
{
	const char *dir = newdir("t7");
	struct turf_envelope env = envelope();
	char id[3][TURF_ID_MAX + 1], err[300], path[512], **ids;
	struct timeval old[2] = {{1000, 0}, {1000, 0}};
	unsigned removed;
	int i;

	for (i = 0; i < 3; i++) {
		struct turf_spool *sp = turf_spool_new(dir, 100);

		turf_spool_add(sp, "m\n", 2);
		turf_commit(dir, sp, &env, id[i], sizeof(id[i]), err, sizeof(err));
		turf_spool_free(sp);
	}
	tap_ok(strcmp(id[0], id[1]) != 0 && strcmp(id[1], id[2]) != 0, "names are unique: %s",
	       id[0]);
	tap_ok(turf_id_valid(id[0]) && strchr(id[0], ':') == NULL, "a name is a plain file name");
	tap_ok(!turf_id_valid("../x") && !turf_id_valid(".hidden") && !turf_id_valid("a b") &&
	           !turf_id_valid(""),
	       "path-like and odd names are refused");
	ids = turf_ids(dir, err, sizeof(err));
	tap_ok(ids && ids[0] && ids[1] && ids[2] && !ids[3] && strcmp(ids[0], ids[1]) < 0,
	       "three listed, sorted");
	turf_ids_free(ids);
	snprintf(path, sizeof(path), "%s/new/%s", dir, id[0]);
	utimes(path, old);
	tap_ok(turf_purge(dir, 2000, &removed, err, sizeof(err)) && removed == 1,
	       "purge removes the old one");
	tap_ok(turf_remove(dir, id[1], err, sizeof(err)), "remove one");
	tap_ok(!turf_remove(dir, id[1], err, sizeof(err)), "not twice");
	tap_int(count_files(dir, "new"), 1, "one left");

	turf_stable_names(true);
	{
		struct turf_spool *sp = turf_spool_new(dir, 100);

		turf_commit(dir, sp, &env, id[0], sizeof(id[0]), err, sizeof(err));
		tap_ok(strncmp(id[0], "whatif.", 7) == 0, "stable names: %s", id[0]);
		snprintf(path, sizeof(path), "%s/new/whatif.%lu", dir,
		         strtoul(id[0] + 7, NULL, 10) + 1);
		fclose(fopen(path, "w"));
		turf_commit(dir, sp, &env, id[1], sizeof(id[1]), err, sizeof(err));
		tap_ok(strtoul(id[1] + 7, NULL, 10) == strtoul(id[0] + 7, NULL, 10) + 2,
		       "a taken name is skipped, never replaced: %s", id[1]);
		turf_spool_free(sp);
	}
	turf_stable_names(false);
}

int
main(void)
{
	char cmd[256];

	snprintf(base, sizeof(base), "%s/rgturf.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_commit_and_read();
	test_envelope_is_ours();
	test_spill_and_cap();
	test_missing_dir();
	test_readonly();
	test_names_list_purge();
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", base, base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", base);
	return tap_done();
}
