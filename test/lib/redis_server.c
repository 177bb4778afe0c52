/*
 * redis_server.c - a private redis-server for tests (see redis_server.h).
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_server.h"

/* The full path of redis-server from PATH (and the sbin directories), or false. */
static bool
find_server(char *out, size_t size)
{
	const char *path = getenv("PATH");
	char dirs[4096], *p, *d;

	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/bin:/usr/local/bin", path ? path : "");
	for (p = dirs; (d = strsep(&p, ":")) != NULL;) {
		if (*d == '\0')
			continue;
		snprintf(out, size, "%s/redis-server", d);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* A loopback port nobody listens on right now. */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Does something on PORT answer PING (or refuse it for want of a password)? */
static bool
answers(int port)
{
	struct sockaddr_in sin;
	struct timeval tv = {1, 0};
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n = -1;

	if (fd < 0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && write(fd, "PING\r\n", 6) == 6)
		n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 && (buf[0] == '+' || buf[0] == '-');
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Start the server on rs->port; false if it exits or stays silent. */
static bool
spawn(struct redis_server *rs, char *why, size_t size)
{
	char bin[4200], port[16], log[128];
	int i, status;

	if (!find_server(bin, sizeof(bin))) {
		snprintf(why, size, "redis-server is not installed");
		return false;
	}
	snprintf(port, sizeof(port), "%d", rs->port);
	snprintf(log, sizeof(log), "%s/redis.log", rs->dir);
	if ((rs->pid = fork()) < 0) {
		snprintf(why, size, "fork: %s", strerror(errno));
		return false;
	}
	if (rs->pid == 0) {
		const char *argv[24] = {bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", rs->dir, "--daemonize", "no", "--logfile", log,
			"--protected-mode", "no", "--loglevel", "warning", NULL};

		/* never outlive the test, even when it crashes */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (rs->password[0] != '\0') {
			argv[19] = "--requirepass";
			argv[20] = rs->password;
			argv[21] = NULL;
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		if (answers(rs->port))
			return true;
		if (waitpid(rs->pid, &status, WNOHANG) == rs->pid) {
			rs->pid = 0;
			snprintf(why, size, "redis-server exited at start (port %d taken?)", rs->port);
			return false;
		}
		sleep_ms(50);
	}
	redis_server_stop(rs);
	snprintf(why, size, "redis-server did not answer on port %d within 10 s", rs->port);
	return false;
}

bool
redis_server_start(struct redis_server *rs, const char *password, char *why, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	int attempt;

	memset(rs, 0, sizeof(*rs));
	snprintf(rs->password, sizeof(rs->password), "%s", password ? password : "");
	snprintf(rs->dir, sizeof(rs->dir), "%s/rgredis.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(rs->dir) == NULL) {
		snprintf(why, size, "mkdtemp: %s", strerror(errno));
		return false;
	}
	/* another test may take the port between our probe and the server's bind */
	for (attempt = 0; attempt < 5; attempt++) {
		if ((rs->port = free_port()) == 0)
			continue;
		if (spawn(rs, why, size))
			return true;
		if (strstr(why, "not installed") != NULL)
			break;
	}
	rmdir(rs->dir);
	return false;
}

void
redis_server_stop(struct redis_server *rs)
{
	if (rs->pid <= 0)
		return;
	kill(rs->pid, SIGCONT);
	kill(rs->pid, SIGTERM);
	waitpid(rs->pid, NULL, 0);
	rs->pid = 0;
}

bool
redis_server_restart(struct redis_server *rs, char *why, size_t size)
{
	int attempt;

	redis_server_stop(rs);
	/* the port may linger a moment after the old server closed it */
	for (attempt = 0; attempt < 20; attempt++) {
		if (spawn(rs, why, size))
			return true;
		sleep_ms(100);
	}
	return false;
}

void
redis_server_pause(struct redis_server *rs, bool pause)
{
	if (rs->pid > 0)
		kill(rs->pid, pause ? SIGSTOP : SIGCONT);
}

void
redis_server_cleanup(struct redis_server *rs)
{
	char path[128];

	redis_server_stop(rs);
	if (rs->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/redis.log", rs->dir);
	unlink(path);
	rmdir(rs->dir);
	rs->dir[0] = '\0';
}
