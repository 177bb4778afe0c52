/*
 * fuzz_rules.c - libFuzzer target: the rule-file parser and compiler.
 * Any text must load or be refused with at least one diagnostic; a loaded
 * set must print (relayguard -n -v) and free cleanly.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ruleset *rs;
	struct diag d;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	diag_init(&d);
	rs = ruleset_from_text(text, "fuzz.rules", 10000, &d);
	if (rs == NULL && d.errors == 0 && strlen(text) == size)
		abort(); /* refused without saying why */
	if (rs != NULL) {
		FILE *null = fopen("/dev/null", "w");

		ruleset_print(rs, null);
		fclose(null);
	}
	ruleset_free(rs);
	diag_free(&d);
	free(text);
	return 0;
}
