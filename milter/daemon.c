/*
 * daemon.c - the master process: detach, pid file, privileges, and
 * supervision of the milter worker.
 *
 * Why a master: libmilter's own signal thread treats SIGHUP as "stop"
 * (libmilter signal.c), and a process cannot keep it from sigwaiting on
 * SIGHUP.  So the process that receives the administrator's signals is a
 * small single-threaded master that never runs libmilter: SIGHUP becomes
 * SIGUSR2 (reload) for the worker, SIGUSR1 is passed on (statistics),
 * SIGTERM/SIGINT stop both.  The master also restarts a worker that dies,
 * with backoff, and holds the pid-file lock so two daemons cannot run on
 * one pid file.  The master stays single-threaded: fork is safe in it.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"
#include "relayguard.h"

/* Write end of the pipe to the process that started us (detach), -1 if none. */
static int notify_fd = -1;

bool
daemon_lookup_user(const char *spec, unsigned *uid, unsigned *gid)
{
	char name[256];
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

	if (n == 0 || n >= sizeof(name)) {
		log_msg(LOG_ERR, "bad user \"%s\"", spec);
		return false;
	}
	memcpy(name, spec, n);
	name[n] = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		log_msg(LOG_ERR, "unknown user \"%s\"", name);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL) {
		struct group *gr = getgrnam(colon + 1);

		if (gr == NULL) {
			log_msg(LOG_ERR, "unknown group \"%s\"", colon + 1);
			return false;
		}
		*gid = gr->gr_gid;
	}
	return true;
}

bool
daemon_drop_privileges(const char *spec, unsigned uid, unsigned gid)
{
	char name[256];
	size_t n = strcspn(spec, ":");

	if (geteuid() != 0) {
		if (geteuid() != uid)
			log_msg(LOG_WARNING, "not root: cannot switch to user %s, staying uid %u", spec,
			    (unsigned)geteuid());
		return true;
	}
	if (uid == 0)
		return true; /* -u root: told to stay root */
	if (n >= sizeof(name))
		return false;
	memcpy(name, spec, n);
	name[n] = '\0';
	if (initgroups(name, (gid_t)gid) != 0 || setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0) {
		log_msg(LOG_ERR, "cannot drop privileges to %s: %s", spec, strerror(errno));
		return false;
	}
	if (setuid(0) == 0) {
		log_msg(LOG_ERR, "privileges were not dropped (setuid(0) still works)");
		return false;
	}
	return true;
}

/* Create and lock the pid file; -1 (and a message) when another daemon holds it. */
static int
pidfile_lock(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0) {
		log_msg(LOG_ERR, "cannot open pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_msg(LOG_ERR, "pid file %s is locked: relayguard is already running (pid %s)", path,
		    buf[0] ? buf : "?");
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		log_msg(LOG_ERR, "cannot write pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Start a worker; wait until it is ready.  Returns its pid, or -1 with *STATUS its exit status. */
static pid_t
start_worker(const struct options *o, int *status)
{
	int fds[2];
	pid_t pid;
	char c;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		close(fds[0]);
		if (notify_fd >= 0)
			close(notify_fd); /* only the master may report readiness */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		glue_run(o, fds[1]);
	}
	close(fds[1]);
	while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (n == 1)
		return pid;
	waitpid(pid, status, 0);
	return -1;
}

/* Detach from the terminal; the parent exits once the worker is ready (NOTIFY). */
static int
detach(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "relayguard: cannot detach: %s\n", strerror(errno));
		exit(EXIT_OSERR);
	}
	if (pid > 0) {
		close(fds[1]);
		/* Errors before readiness went to this terminal (stderr is shared until then). */
		exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	if (chdir("/") != 0)
		return -1;
	return fds[1];
}

static void
quiet_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Stop the worker: SIGTERM, then SIGKILL after a grace period longer than
 * the worker's own (libmilter needs up to ~5 s to return, then open
 * sessions get 10 s).
 */
static void
stop_worker(pid_t pid)
{
	int i, status;

	kill(pid, SIG_WORKER_STOP);
	for (i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	log_msg(LOG_WARNING, "worker %ld did not stop in 30 s; killing it", (long)pid);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void
describe_exit(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
}

/*
 * Sleep SECONDS while still answering signals: false if told to stop.
 * SIGCHLD of a worker that failed to start is already reaped and ignored.
 */
static bool
backoff_sleep(const sigset_t *set, unsigned seconds)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)seconds;
	for (;;) {
		struct timespec left;
		int sig;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return true;
		sig = sigtimedwait(set, NULL, &left);
		if (sig == SIGTERM || sig == SIGINT)
			return false;
		if (sig < 0 && errno == EAGAIN)
			return true;
	}
}

/* Restart a worker that ended, with exponential backoff; 0 if told to stop meanwhile. */
static pid_t
restart_worker(const struct options *o, const sigset_t *set, unsigned *backoff)
{
	char why[64];
	int status;
	pid_t worker;

	for (;;) {
		if (!backoff_sleep(set, *backoff))
			return 0;
		if (*backoff < 60)
			*backoff *= 2;
		if ((worker = start_worker(o, &status)) > 0)
			return worker;
		describe_exit(status, why, sizeof(why));
		log_msg(LOG_ERR, "worker failed to start (%s); retrying in %u s", why, *backoff);
	}
}

/* Wait for signals and act on them until told to stop. */
static void
supervise(const struct options *o, pid_t worker)
{
	sigset_t set;
	unsigned backoff = 1;
	time_t started = time(NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL), status;
		char why[64];

		if (sig == SIGHUP) {
			log_msg(LOG_INFO, "SIGHUP: reloading %s", o->config);
			kill(worker, SIGUSR2);
		} else if (sig == SIGUSR1) {
			kill(worker, SIGUSR1);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_msg(LOG_NOTICE, "stopping");
			stop_worker(worker);
			return;
		} else if (sig == SIGCHLD && waitpid(worker, &status, WNOHANG) == worker) {
			describe_exit(status, why, sizeof(why));
			if (time(NULL) - started > 60)
				backoff = 1; /* it ran a while: a fresh failure, not a crash loop */
			log_msg(LOG_ERR, "worker %ld ended (%s); restarting in %u s", (long)worker, why,
			    backoff);
			if ((worker = restart_worker(o, &set, &backoff)) == 0)
				return;
			started = time(NULL);
			log_msg(LOG_NOTICE, "worker %ld restarted", (long)worker);
		}
	}
}

int
daemon_master(const struct options *o)
{
	struct diag d;
	struct snapshot *snap;
	char *pidfile = NULL;
	int pidfd = -1, status = 0, rc = 0;
	sigset_t set;
	pid_t worker;

	/*
	 * Check the configuration here, so errors reach the terminal before
	 * detaching.  The master keeps nothing of it but the pid file name:
	 * the worker loads the configuration itself.
	 */
	diag_init(&d);
	snap = snapshot_load(o->config, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (snap == NULL)
		return EXIT_CONFIG;
	if (o->pidfile != NULL || snap->cfg->pidfile != NULL)
		pidfile = strdup(o->pidfile ? o->pidfile : snap->cfg->pidfile);
	snapshot_unref(snap);
	if (!o->foreground && (notify_fd = detach()) < 0) {
		free(pidfile);
		return EXIT_OSERR;
	}
	if (pidfile != NULL && (pidfd = pidfile_lock(pidfile)) < 0) {
		free(pidfile);
		return EXIT_OSERR;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if ((worker = start_worker(o, &status)) < 0) {
		rc = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EXIT_OSERR;
	} else {
		if (notify_fd >= 0) {
			if (write(notify_fd, "R", 1) != 1)
				log_msg(LOG_WARNING, "cannot notify the starting process");
			close(notify_fd);
			notify_fd = -1;
			quiet_stdio();
		}
		supervise(o, worker);
	}
	if (pidfd >= 0) {
		unlink(pidfile);
		close(pidfd);
	}
	free(pidfile);
	return rc;
}
