/*
 * config_value.c - turning one value text of relayguard.conf into its
 * struct config field: booleans, numbers with units, rates, replies,
 * enums, and lists (inline or from list files, which are checked like the
 * configuration itself and watched for reload_on_change).  Never logs:
 * problems become "file:line: problem" diagnostics.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "addr.h"
#include "caps.h"
#include "config.h"
#include "fsafe.h"
#include "store.h"
#include "strbuf.h"

#include "config_priv.h"

static void *
field(struct config *cfg, const struct ckey *k)
{
	return (char *)cfg + k->off;
}

void
config_value_clear(struct config *cfg, const struct ckey *k)
{
	void *f = field(cfg, k);
	size_t i;

	switch (k->type) {
	case CT_CIDRS:
		cidrset_free(*(struct cidrset **)f);
		*(struct cidrset **)f = NULL;
		break;
	case CT_DOMAINS:
		domset_free(*(struct domset **)f);
		*(struct domset **)f = NULL;
		break;
	case CT_STRINGS:
		strset_free(*(struct strset **)f);
		*(struct strset **)f = NULL;
		break;
	case CT_STRING:
		free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CT_REROUTE:
		for (i = 0; i < cfg->n_reroute; i++) {
			free(cfg->reroute[i].from);
			free(cfg->reroute[i].to);
		}
		free(cfg->reroute);
		cfg->reroute = NULL;
		cfg->n_reroute = 0;
		break;
	default:
		break;
	}
}

/* ---- scalar values ---- */

static bool
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (str_ieq(v, yes[i]))
			return *out = true, true;
	for (i = 0; no[i] != NULL; i++)
		if (str_ieq(v, no[i]))
			return *out = false, true;
	return false;
}

/* Number with an optional unit suffix; UNITS lists suffix/multiplier pairs. */
static bool
parse_scaled(const char *v, long *out, const char *const *units, const long *mult, long defmult)
{
	char *end;
	long n, m = defmult;
	size_t i;

	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		return false;
	n = strtol(v, &end, 10);
	if (errno != 0)
		return false;
	if (*end != '\0') {
		for (i = 0; units[i] != NULL; i++)
			if (str_ieq(end, units[i]))
				break;
		if (units[i] == NULL)
			return false;
		m = mult[i];
	}
	if (n > LONG_MAX / m)
		return false;
	*out = n * m;
	return true;
}

/* "off", "0" or "N/DURATION" with N >= 1 and a duration of 1 ms to 30 days. */
static bool
parse_rate(const char *v, struct rate_spec *out)
{
	static const char *const units[] = {"ms", "s", "m", "h", "d", NULL};
	static const long mult[] = {1, 1000, 60000, 3600000, 86400000};
	const char *slash = strchr(v, '/');
	char num[32];
	long n, w;

	memset(out, 0, sizeof(*out));
	if (str_ieq(v, "off") || strcmp(v, "0") == 0)
		return true;
	if (slash == NULL || slash == v || (size_t)(slash - v) >= sizeof(num))
		return false;
	memcpy(num, v, (size_t)(slash - v));
	num[slash - v] = '\0';
	if (!parse_scaled(num, &n, units + 5, mult, 1) || n < 1 || n > 1000000000)
		return false;
	/* "10/m" reads as "10 per minute" */
	if (isalpha((unsigned char)slash[1])) {
		char one[40];

		snprintf(one, sizeof(one), "1%s", slash + 1);
		if (!parse_scaled(one, &w, units, mult, 1000))
			return false;
	} else if (!parse_scaled(slash + 1, &w, units, mult, 1000)) {
		return false;
	}
	if (w < 1 || w > 30L * 86400000)
		return false;
	out->limit = n;
	out->window_ms = w;
	return true;
}

static bool
parse_scalar(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	static const char *const dur_units[] = {"ms", "s", "m", "h", "d", NULL};
	static const long dur_mult[] = {1, 1000, 60000, 3600000, 86400000};
	static const char *const size_units[] = {"k", "m", "g", "kb", "mb", "gb", NULL};
	static const long size_mult[] = {1024, 1048576, 1073741824, 1024, 1048576, 1073741824};
	void *f = field(cfg, k);
	const char *err_s;
	long n;
	size_t i;
	char err[160];

	switch (k->type) {
	case CT_BOOL:
		if (!parse_bool(v, (bool *)f))
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not yes or no", k->name, v), false;
		return true;
	case CT_INT:
	case CT_DURATION:
	case CT_SIZE:
		if (!(k->type == CT_INT	     ? parse_scaled(v, &n, dur_units + 5, dur_mult, 1)
			: k->type == CT_DURATION ? parse_scaled(v, &n, dur_units, dur_mult, 1000)
						 : parse_scaled(v, &n, size_units, size_mult, 1)))
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not a %s", k->name, v,
				   k->type == CT_INT ? "number" : k->type == CT_DURATION ? "duration (e.g. 30s, 5m)" : "size (e.g. 10M)"),
			       false;
		if (n < k->min || n > k->max)
			return diag_error(w->d, w->file, w->line, "%s: %s is out of range", k->name, v), false;
		*(long *)f = n;
		return true;
	case CT_STRING:
		if ((err_s = config_keys_value_problem(k, v)) != NULL)
			return diag_error(w->d, w->file, w->line, "%s: \"%s\": %s", k->name, v, err_s), false;
		*(char **)f = strdup(v);
		return *(char **)f != NULL;
	case CT_OCTAL: {
		char *end;

		errno = 0;
		n = strtol(v, &end, 8);
		if (*v == '\0' || *end != '\0' || errno != 0 || n < k->min || n > k->max)
			return diag_error(w->d, w->file, w->line, "%s: \"%s\" is not an octal mode such as 0660",
				   k->name, v),
			       false;
		*(long *)f = n;
		return true;
	}
	case CT_ENUM:
		for (i = 0; k->enums[i] != NULL; i++)
			if (str_ieq(v, k->enums[i]))
				return *(int *)f = (int)i, true;
		{
			char opts[200];
			struct strbuf sb;

			strbuf_init(&sb, opts, sizeof(opts));
			for (i = 0; k->enums[i] != NULL; i++)
				strbuf_addf(&sb, "%s%s", i ? " | " : "", k->enums[i]);
			diag_error(w->d, w->file, w->line, "%s: \"%s\" is not one of %s", k->name, v, opts);
		}
		return false;
	case CT_REPLY:
		if (!reply_parse(v, k->klass, (struct reply_tmpl *)f, err, sizeof(err)))
			return diag_error(w->d, w->file, w->line, "%s: %s", k->name, err), false;
		return true;
	case CT_RATE:
		if (!parse_rate(v, (struct rate_spec *)f))
			return diag_error(w->d, w->file, w->line,
				   "%s: \"%s\" is not N/DURATION (e.g. 30/1m) or off", k->name, v),
			       false;
		return true;
	default:
		return false;
	}
}

/* ---- list values ---- */

/* Add one list ITEM to K's field (created on first use). */
static bool
list_add(struct config *cfg, const struct ckey *k, const char *item, const struct where *w)
{
	void *f = field(cfg, k);
	const char *err = NULL;

	switch (k->type) {
	case CT_CIDRS:
		if (cidrset_add(*(struct cidrset **)f, item, &err))
			return true;
		break;
	case CT_DOMAINS:
		if (domset_add(*(struct domset **)f, item, &err))
			return true;
		break;
	case CT_STRINGS:
		if (strlen(item) > CAP_ADDR_LEN)
			err = "item too long";
		else if ((err = config_keys_value_problem(k, item)) != NULL)
			break;
		else if (strset_add(*(struct strset **)f, item))
			return true;
		else
			err = "out of memory";
		break;
	case CT_REROUTE: {
		const char *colon = strchr(item, ':');
		struct reroute *r;
		char from[CAP_DOMAIN_LEN + 2];

		if (colon == NULL || (size_t)(colon - item) >= sizeof(from)) {
			err = "expected old.example:new.example";
			break;
		}
		memcpy(from, item, (size_t)(colon - item));
		from[colon - item] = '\0';
		if (!domain_is_valid(from) || !domain_is_valid(colon + 1)) {
			err = "both sides must be domain names (old.example:new.example)";
			break;
		}
		r = realloc(cfg->reroute, (cfg->n_reroute + 1) * sizeof(*r));
		if (r == NULL)
			return false;
		cfg->reroute = r;
		r = &cfg->reroute[cfg->n_reroute++];
		r->from = malloc(strlen(from) + 1);
		r->to = malloc(strlen(colon + 1) + 1);
		if (r->from == NULL || r->to == NULL)
			return false;
		str_lower_copy(r->from, strlen(from) + 1, from);
		str_lower_copy(r->to, strlen(colon + 1) + 1, colon + 1);
		if (r->from[strlen(r->from) - 1] == '.')
			r->from[strlen(r->from) - 1] = '\0';
		if (r->to[strlen(r->to) - 1] == '.')
			r->to[strlen(r->to) - 1] = '\0';
		return true;
	}
	default:
		err = "not a list";
	}
	diag_error(w->d, w->file, w->line, "%s: \"%s\": %s", k->name, item, err);
	return false;
}

static bool
is_file_ref(const char *item)
{
	return item[0] == '/' || strncmp(item, "./", 2) == 0 || strncmp(item, "../", 3) == 0;
}

/* Read a list file of one item per line. */
static bool
list_add_file(struct config *cfg, const struct ckey *k, const char *name, const struct where *w)
{
	char *path = config_resolve_path(w->file, name);
	char line[CAP_CONF_LINE + 2], err[200];
	struct where fw = {path, 0, w->d};
	unsigned before = w->d->errors;
	FILE *fp;

	if (path == NULL)
		return false;
	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(w->d, w->file, w->line, "%s: cannot open %s: %s", k->name, path,
		    strerror(errno));
		free(path);
		return false;
	}
	if (!fsafe_check(path, fileno(fp), err, sizeof(err))) {
		diag_error(w->d, w->file, w->line, "%s: %s %s", k->name, path, err);
		fclose(fp);
		free(path);
		return false;
	}
	config_watch(cfg, path, fileno(fp));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *item;

		fw.line++;
		if (strlen(line) > CAP_CONF_LINE) {
			diag_error(w->d, path, fw.line, "line longer than %d bytes", CAP_CONF_LINE);
			break;
		}
		item = str_trim(line);
		if (*item == '\0' || *item == '#')
			continue;
		list_add(cfg, k, item, &fw);
	}
	fclose(fp);
	free(path);
	return w->d->errors == before;
}

static bool
parse_list(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	char *copy = strdup(v), *p, *item;
	void **f = field(cfg, k);
	unsigned before = w->d->errors;

	if (copy == NULL)
		return false;
	if (k->type == CT_CIDRS)
		*f = cidrset_new();
	else if (k->type == CT_DOMAINS)
		*f = domset_new();
	else if (k->type == CT_STRINGS)
		*f = strset_new();
	if (k->type != CT_REROUTE && *f == NULL) {
		free(copy);
		return false;
	}
	for (p = copy; (item = strsep(&p, " \t,")) != NULL;) {
		if (*item == '\0')
			continue;
		if (is_file_ref(item))
			list_add_file(cfg, k, item, w);
		else
			list_add(cfg, k, item, w);
	}
	free(copy);
	if (k->type == CT_CIDRS)
		cidrset_freeze(*f);
	return w->d->errors == before;
}

bool
config_value_parse(struct config *cfg, const struct ckey *k, const char *v, const struct where *w)
{
	char **text = &cfg->text[k - config_keys];

	config_value_clear(cfg, k);
	free(*text);
	if ((*text = strdup(v)) == NULL)
		return false;
	switch (k->type) {
	case CT_CIDRS:
	case CT_DOMAINS:
	case CT_STRINGS:
	case CT_REROUTE:
		return parse_list(cfg, k, v, w);
	default:
		return parse_scalar(cfg, k, v, w);
	}
}
