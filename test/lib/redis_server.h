/*
 * redis_server.h - a private redis-server for the tests and benchmarks
 * that need a real one: started on a loopback port chosen at run time, in
 * a private temporary directory, without persistence; stopped, paused and
 * restarted on the same port on request (outage tests).
 *
 * Not thread-safe; one process controls its servers.
 */
#ifndef RG_TEST_REDIS_SERVER_H
#define RG_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct redis_server {
	pid_t pid;		/* 0: not running */
	int port;
	char dir[64];		/* private directory (log, nothing else) */
	char password[64];	/* requirepass, "" for none */
};

/*
 * Start a server (with PASSWORD as requirepass when not NULL).  False with
 * a reason in WHY when redis-server is not installed or does not answer
 * within 10 s.
 */
bool redis_server_start(struct redis_server *rs, const char *password, char *why, size_t size);

/* Stop it (SIGTERM, then wait); the directory stays for a restart. */
void redis_server_stop(struct redis_server *rs);

/* Start it again on the same port (an empty server); false with WHY. */
bool redis_server_restart(struct redis_server *rs, char *why, size_t size);

/* Freeze (SIGSTOP) or thaw (SIGCONT) it: a hung server. */
void redis_server_pause(struct redis_server *rs, bool pause);

/* Stop it and remove its directory. */
void redis_server_cleanup(struct redis_server *rs);

#endif
