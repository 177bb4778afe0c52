/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on files given on
 * the command line, without libFuzzer: `make check` replays every kept
 * regression input with the ordinary compiler and sanitizers.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf;
		long len;

		if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0) {
			perror(argv[i]);
			return 2;
		}
		rewind(fp);
		buf = malloc((size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, fp) != (size_t)len) {
			perror(argv[i]);
			return 2;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return 0;
}
