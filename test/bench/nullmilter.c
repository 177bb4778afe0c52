/*
 * nullmilter.c - a do-nothing milter on libmilter, the baseline of
 * test/bench/mta-bench.sh: what the milter protocol itself costs an MTA.
 *
 *   nullmilter SOCKET          e.g. inet:8891@127.0.0.1 or unix:/path
 *
 * Every callback is present and answers SMFIS_CONTINUE, and it does not
 * negotiate: libmilter's defaults, so the MTA sends every stage and its
 * macros and waits for a reply to each (LIBRARIES 1.5).  That is what a
 * milter written without care for its cost does, and the bar relayguard's
 * full policy is measured against.  It stays in the foreground, logs
 * nothing and stops on SIGTERM (libmilter's own signal handling, 1.3).
 */
#include <stdbool.h> /* before mfapi.h (LIBRARIES 1.1) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

static sfsistat
nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx, (void)host, (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx, (void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_args(SMFICTX *ctx, char **argv)
{
	(void)ctx, (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx, (void)name, (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_step(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx, (void)chunk, (void)len;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx, (void)cmd;
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_args,
	.xxfi_envrcpt = nm_args,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_step,
	.xxfi_body = nm_body,
	.xxfi_eom = nm_step,
	.xxfi_abort = nm_step,
	.xxfi_close = nm_step,
	.xxfi_unknown = nm_unknown,
	.xxfi_data = nm_step,
	.xxfi_negotiate = NULL,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(nm_desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	printf("nullmilter: ready on %s\n", argv[1]);
	fflush(stdout);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
