/*
 * fuzz_config.c - libFuzzer target: the relayguard.conf parser.  The input
 * is written to a private file and loaded; it must load or be refused with
 * at least one diagnostic, never crash, and a loaded config must print.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	struct diag d;
	FILE *fp;

	if (path[0] == '\0') {
		char dir[] = "/tmp/rgfuzz.XXXXXX";

		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/fuzz.conf", dir);
	}
	if ((fp = fopen(path, "w")) == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	diag_init(&d);
	cfg = config_load(path, &d);
	if (cfg == NULL && d.errors == 0)
		abort(); /* refused without saying why */
	if (cfg != NULL) {
		FILE *null = fopen("/dev/null", "w");

		config_print(cfg, null);
		fclose(null);
	}
	config_free(cfg);
	diag_free(&d);
	return 0;
}
