/*
 * relayguard.h - the program's internal interfaces: options, the milter
 * worker (glue.c, the only file that includes libmilter), the what-if
 * runner (whatif.c) and the daemon plumbing (daemon.c).
 */
#ifndef RG_RELAYGUARD_H
#define RG_RELAYGUARD_H

#include <stdbool.h>
#include <signal.h>
#include <stdio.h>

#include "snapshot.h"

/* Exit codes (sysexits.h values where one fits). */
#define EXIT_USAGE 64	/* EX_USAGE */
#define EXIT_CONFIG 78	/* EX_CONFIG: bad config, refused at start-up */
#define EXIT_OSERR 71	/* EX_OSERR: socket, privileges, fork */

struct options {
	const char *config;	/* -c */
	const char *socket;	/* -p, overrides socket = */
	const char *user;	/* -u USER[:GROUP], overrides user = */
	const char *pidfile;	/* -P, overrides pidfile = */
	bool foreground;	/* -f */
	bool check;		/* -n */
	bool whatif;		/* -t */
	bool verbose;		/* -v */
	const char *script;	/* what-if script, NULL = stdin */
	int turf_argc;		/* "turf ..." and what follows it, or 0/NULL */
	char **turf_argv;
};

/* relayguard [-c FILE] turf ...: ARGV[0] is "turf"; returns the exit code (turfcmd.c). */
int turfcmd_main(const char *config, int argc, char **argv);

/*
 * The master stops the worker with this signal rather than SIGTERM: the
 * worker can then wake libmilter's listener at once instead of waiting
 * for its 5-second select timeout (SIGTERM from elsewhere still works).
 */
#define SIG_WORKER_STOP (SIGRTMIN + 2)

/* What-if mode: run SCRIPT (NULL: stdin) against SNAP, print to OUT; returns the exit code. */
int whatif_run(struct snapshot *snap, const char *script, FILE *out);

/*
 * The milter worker: open the socket, drop privileges, tell the master it
 * is ready (READY_FD, -1 for none), serve until SIGTERM.  Never returns.
 */
void glue_run(const struct options *o, int ready_fd) __attribute__((noreturn));

/* Reload the configuration (SIGHUP in the master arrives here as SIGUSR2). */
void worker_reload(const char *config_path);

/* Start the Prometheus endpoint on [HOST:]PORT (metrics.c); false with a log line on failure. */
bool metrics_start(const char *spec);

/* ---- daemon.c ---- */

/* Resolve USER[:GROUP]; false with a message on stderr if unknown. */
bool daemon_lookup_user(const char *spec, unsigned *uid, unsigned *gid);

/* Drop to UID/GID (with supplementary groups of the user); false on failure. */
bool daemon_drop_privileges(const char *spec, unsigned uid, unsigned gid);

/*
 * Run as master: optionally detach (not FOREGROUND), write and lock the pid
 * file, start the worker (glue_run in a child) and supervise it: SIGHUP
 * reloads, SIGTERM/SIGINT stop, SIGUSR1 asks for statistics, a worker that
 * dies is restarted with backoff.  Returns the process exit code.
 */
int daemon_master(const struct options *o);

#endif
