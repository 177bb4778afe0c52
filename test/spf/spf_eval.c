/*
 * spf_eval.c - run relayguard's SPF path (spf.h: libspf2 on the shared
 * libunbound resolver) on cases read from stdin, for the RFC 7208 test
 * suite driver (test/spf/rfc7208.py).  Not installed.
 *
 *   spf_eval CONFIG < cases
 *
 * A case is one line "id<TAB>client-ip<TAB>helo<TAB>mailfrom" (mailfrom
 * empty for the null sender).  For each case one line is printed:
 * "id<TAB>result<TAB>explanation<TAB>problem".  The resolver comes from
 * CONFIG (dns_resolvers, dns_config, dns_timeout) as in the daemon.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "services.h"
#include "snapshot.h"
#include "spf.h"

/* Split LINE at tabs into at most N fields; returns how many. */
static size_t
split(char *line, char **fields, size_t n)
{
	size_t i = 0;
	char *p = line;

	while (i < n) {
		fields[i++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	return i;
}

int
main(int argc, char **argv)
{
	struct snapshot *snap;
	struct services svc;
	struct diag d;
	char line[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: spf_eval CONFIG < cases\n");
		return 64;
	}
	diag_init(&d);
	if ((snap = snapshot_load(argv[1], &d)) == NULL || !services_init(&svc, snap->cfg, &d)) {
		diag_print(&d, stderr);
		return 78;
	}
	diag_free(&d);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *f[4];
		struct ipaddr ip;
		struct timespec deadline;
		struct spf_outcome o;

		line[strcspn(line, "\r\n")] = '\0';
		if (split(line, f, 4) != 4 || !ipaddr_parse(f[1], &ip)) {
			printf("%s\tbad-case\t\t\n", f[0]);
			continue;
		}
		dns_deadline_in(snap->cfg->dns_timeout, &deadline);
		spf_evaluate(svc.spf, &ip, f[2][0] ? f[2] : NULL, f[3], &deadline, &o);
		printf("%s\t%s\t%s\t%s\n", f[0], spf_result_name(o.result), o.explanation, o.problem);
		fflush(stdout);
	}
	services_free(&svc);
	snapshot_unref(snap);
	return 0;
}
