/*
 * fuzz_addr.c - libFuzzer target: SMTP path parsing and classification.
 * Any byte string must parse to a status without crashing, and a parsed
 * address must keep its invariants (bounded, NUL-terminated fields;
 * route flags consistent with addr_hides_route).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct addr a;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &a) == ADDR_OK) {
		if (strlen(a.local) > CAP_LOCALPART_LEN || strlen(a.domain) > CAP_DOMAIN_LEN)
			abort();
		if (addr_hides_route(&a) != (addr_route_form(&a) != NULL))
			abort();
	}
	free(s);
	return 0;
}
