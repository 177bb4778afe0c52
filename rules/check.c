/*
 * check.c - names of the built-in checks (see check.h).  The order
 * follows enum check_id.
 */
#include "autoconf.h"

#include <string.h>

#include "check.h"

static const char *const names[CHK_COUNT] = {
	[CHK_SYNTAX] = "syntax",
	[CHK_ALWAYS_ACCEPT] = "always_accept",
	[CHK_RELAY] = "relay",
	[CHK_LOCAL_RECIPIENTS] = "local_recipients",
	[CHK_RDNS] = "rdns",
	[CHK_HELO] = "helo",
	[CHK_SPF] = "spf",
	[CHK_SENDER_DOMAIN] = "sender_domain",
	[CHK_HOPS] = "hops",
	[CHK_LOOP] = "loop",
	[CHK_AUTOREPLY] = "autoreply",
	[CHK_TURF] = "turf",
	[CHK_CLIENTS] = "clients",
	[CHK_LIMITS] = "limits",
	[CHK_RULES] = "rules",
};

const char *
check_name(enum check_id id)
{
	return (unsigned)id < CHK_COUNT && names[id] ? names[id] : "?";
}

bool
check_by_name(const char *name, enum check_id *out)
{
	unsigned i;

	for (i = 0; i < CHK_COUNT; i++) {
		if (names[i] != NULL && strcmp(names[i], name) == 0) {
			*out = (enum check_id)i;
			return true;
		}
	}
	return false;
}

bool
check_skippable(enum check_id id)
{
	return id != CHK_SYNTAX && id != CHK_ALWAYS_ACCEPT;
}
