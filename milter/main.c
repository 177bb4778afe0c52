/*
 * main.c - relayguard's command line: run the filter, check the
 * configuration (-n), answer what-if scripts (-t) or look after the turf
 * directory (turf ..., turfcmd.c).
 */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "log.h"
#include "relayguard.h"
#include "ruleset.h"
#include "snapshot.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/relayguard/relayguard.conf"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: relayguard [-c FILE] [-p SOCKET] [-f] [-u USER[:GROUP]] [-P PIDFILE]\n"
	    "       relayguard -n [-v] [-c FILE]          check the configuration\n"
	    "       relayguard -t [-v] [-c FILE] [SCRIPT] what-if: decide a session script\n"
	    "       relayguard [-c FILE] turf list | show ID | release ID | purge --older-than DAYS\n"
	    "       relayguard -V                         version\n"
	    "SOCKET: unix:/path, inet:PORT@HOST or inet6:PORT@HOST\n"
	    "default FILE: %s\n",
	    DEFAULT_CONFIG);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	/* "+": options end at the first word, so "turf purge --older-than" is the subcommand's. */
	while ((c = getopt(argc, argv, "+c:p:u:P:fntvVh")) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'p': o->socket = optarg; break;
		case 'u': o->user = optarg; break;
		case 'P': o->pidfile = optarg; break;
		case 'f': o->foreground = true; break;
		case 'n': o->check = true; break;
		case 't': o->whatif = true; break;
		case 'v': o->verbose = true; break;
		case 'V': printf("relayguard %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (o->check && o->whatif) {
		fprintf(stderr, "relayguard: -n and -t exclude each other\n");
		return EXIT_USAGE;
	}
	if (!o->check && !o->whatif && optind < argc && strcmp(argv[optind], "turf") == 0) {
		o->turf_argc = argc - optind;
		o->turf_argv = argv + optind;
		return 0;
	}
	if (o->whatif && optind < argc)
		o->script = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* Load the configuration for -n/-t, printing every diagnostic. */
static struct snapshot *
load_or_report(const struct options *o, struct diag *d)
{
	struct snapshot *snap = snapshot_load(o->config, d);

	diag_print(d, stderr);
	return snap;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct snapshot *snap;
	struct diag d;
	int rc;

	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc;
	if (o.turf_argv != NULL) {
		log_init("relayguard", LOG_DEST_STDERR);
		return turfcmd_main(o.config, o.turf_argc, o.turf_argv);
	}
	diag_init(&d);
	if (o.check) {
		log_init("relayguard", LOG_DEST_STDERR);
		snap = load_or_report(&o, &d);
		if (snap != NULL && o.verbose) {
			config_print(snap->cfg, stdout);
			ruleset_print(snap->rules, stdout);
		}
		rc = snap != NULL ? 0 : 1;
		if (snap == NULL)
			fprintf(stderr, "%s: %u error%s\n", o.config, d.errors, d.errors == 1 ? "" : "s");
		snapshot_unref(snap);
		diag_free(&d);
		return rc;
	}
	if (o.whatif) {
		log_init("relayguard", o.verbose ? LOG_DEST_STDERR : LOG_DEST_NONE);
		if ((snap = load_or_report(&o, &d)) == NULL) {
			diag_free(&d);
			return EXIT_CONFIG;
		}
		diag_free(&d);
		rc = whatif_run(snap, o.script, stdout);
		snapshot_unref(snap);
		return rc;
	}
	log_init("relayguard", o.foreground ? LOG_DEST_STDERR : LOG_DEST_SYSLOG);
	return daemon_master(&o);
}
