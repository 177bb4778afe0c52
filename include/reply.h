/*
 * reply.h - SMTP replies: templates from the configuration and rule files,
 * expanded per decision.
 *
 * A template is "CODE X.Y.Z text" where CODE is 4xx or 5xx and the class
 * of the enhanced code (RFC 3463) agrees with it.  The text may hold
 * %{name} references (RFC 2505 13: a refusal should say why) that are
 * expanded from the session when a decision is made; "%%" is a literal %.
 * Expanded values from the client are made printable, so a reply can never
 * carry CR, LF or control bytes to the MTA.
 */
#ifndef RG_REPLY_H
#define RG_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "caps.h"

struct reply {
	char code[4];	/* "550" */
	char xcode[12]; /* "5.7.1" */
	char text[CAP_REPLY_TEXT];
};

/* Parsed template, as stored in a configuration snapshot. */
struct reply_tmpl {
	char code[4];
	char xcode[12];
	char text[CAP_REPLY_TEXT];
};

/*
 * Parse S ("550 5.7.1 Relaying denied") into *OUT.  CLASS is '4', '5' or
 * 0 (either).  Rules: a three-digit code 4xx/5xx (2xx and 3xx refused), an
 * enhanced code whose class equals the code's first digit, text present,
 * printable and at most CAP_REPLY_TEXT-1 bytes, %{...} references to known
 * names only.  On error returns false and writes a description into ERR.
 */
bool reply_parse(const char *s, char klass, struct reply_tmpl *out, char *err, size_t errsize);

/* Look up a %{name} value for expansion; return NULL for "unknown". */
typedef const char *(*reply_lookup_fn)(const char *name, void *arg);

/* Is NAME a %{name} that reply_expand understands? */
bool reply_name_known(const char *name);

/* Expand T into *OUT, taking values from LOOKUP(ARG). */
void reply_expand(const struct reply_tmpl *t, reply_lookup_fn lookup, void *arg, struct reply *out);

/* Turn a 5xx reply into the matching 4xx (soft_mode): 550 -> 450, 5.7.1 -> 4.7.1. */
void reply_soften(struct reply *r);

/* Format "550 5.7.1 text" into BUF. */
void reply_format(const struct reply *r, char *buf, size_t size);

#endif
