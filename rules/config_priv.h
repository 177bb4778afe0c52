/*
 * config_priv.h - the inside of the configuration parser, shared by its
 * three files: config_keys.c (the key table: names, types, defaults,
 * bounds, per-value and cross-key checks), config_value.c (turning a value
 * text into a field) and config.c (reading the file, the public API).
 */
#ifndef RG_CONFIG_PRIV_H
#define RG_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"

enum ctype {
	CT_BOOL,
	CT_INT,
	CT_DURATION,	/* stored as long milliseconds; suffix ms, s, m, h, d (default s) */
	CT_SIZE,	/* stored as long bytes; suffix k, m, g (powers of 1024) */
	CT_STRING,
	CT_ENUM,	/* stored as int: index into enums */
	CT_CIDRS,
	CT_DOMAINS,
	CT_STRINGS,
	CT_REPLY,
	CT_REROUTE,
	CT_OCTAL,	/* stored as long; file permissions such as 0660 */
	CT_RATE,	/* struct rate_spec: "N/DURATION" (N events per sliding window), or off */
};

struct ckey {
	const char *name;
	enum ctype type;
	size_t off;
	const char *def;	  /* NULL: unset */
	long min, max;		  /* CT_INT, CT_DURATION, CT_SIZE */
	const char *const *enums; /* CT_ENUM */
	char klass;		  /* CT_REPLY: '4', '5' or 0 */
};

/* Where a value came from, for diagnostics. */
struct where {
	const char *file;
	unsigned line;
	struct diag *d;
};

/* ---- config_keys.c ---- */

/* The table of every key, in the order config_print shows them. */
extern const struct ckey config_keys[];
extern const size_t config_nkeys;

/* The key called NAME, or NULL. */
const struct ckey *config_keys_find(const char *name);

/* What is wrong with V as a value or list item of K (a form of its own), or NULL. */
const char *config_keys_value_problem(const struct ckey *k, const char *v);

/* Checks that involve several keys, after the whole file was read. */
void config_keys_validate(struct config *cfg, struct diag *d);

/* ---- config_value.c ---- */

/* Replace K's field of CFG with the value text V (file and line in W); false on error. */
bool config_value_parse(struct config *cfg, const struct ckey *k, const char *v, const struct where *w);

/* Free whatever K's field holds and reset it. */
void config_value_clear(struct config *cfg, const struct ckey *k);

#endif
