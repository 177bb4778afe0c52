/*
 * fuzz_script.c - libFuzzer target: the what-if script reader.  Every
 * line of the input is parsed; the parser must never crash or read past
 * its line, whatever the bytes.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *line, *next;
	struct script_event ev;
	char err[160];

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		script_parse_line(line, &ev, err, sizeof(err));
	}
	free(buf);
	return 0;
}
