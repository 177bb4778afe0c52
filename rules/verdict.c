/*
 * verdict.c - verdict helpers (see verdict.h).
 */
#include "autoconf.h"

#include <string.h>

#include "verdict.h"

void
verdict_clear(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = ACT_CONTINUE;
}

const char *
action_name(enum action a)
{
	switch (a) {
	case ACT_CONTINUE:
		return "continue";
	case ACT_ACCEPT:
		return "accept";
	case ACT_REJECT:
		return "reject";
	case ACT_TEMPFAIL:
		return "tempfail";
	case ACT_DISCARD:
		return "discard";
	case ACT_TURF:
		return "turf";
	case ACT_QUARANTINE:
		return "quarantine";
	}
	return "?";
}

bool
action_is_refusal(enum action a)
{
	return a == ACT_REJECT || a == ACT_TEMPFAIL;
}
