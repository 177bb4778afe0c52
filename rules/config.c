/*
 * config.c - relayguard.conf: reading the file (logical lines, comments,
 * continuations, repeated keys), loading, freeing, printing and comparing
 * configurations, and the files they were read from (see config.h).  The
 * key table is config_keys.c; value parsing is config_value.c.  The parser
 * never logs; every problem becomes a "file:line: problem" diagnostic and
 * any error frees everything.
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
#include "lineread.h"
#include "store.h"
#include "strbuf.h"

#include "config_priv.h"

char *
config_resolve_path(const char *from, const char *name)
{
	const char *slash;
	size_t dirlen;
	char *out;

	if (name[0] == '/')
		return strdup(name);
	while (strncmp(name, "./", 2) == 0)
		name += 2;
	if (from == NULL || (slash = strrchr(from, '/')) == NULL)
		return strdup(name);
	dirlen = (size_t)(slash - from) + 1;
	if ((out = malloc(dirlen + strlen(name) + 1)) == NULL)
		return NULL;
	memcpy(out, from, dirlen);
	strcpy(out + dirlen, name); /* size computed above */
	return out;
}

bool
config_watch(struct config *cfg, const char *path, int fd)
{
	struct watched *w;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	w = realloc(cfg->watched, (cfg->nwatched + 1) * sizeof(*w));
	if (w == NULL)
		return false;
	cfg->watched = w;
	w = &cfg->watched[cfg->nwatched];
	if ((w->path = strdup(path)) == NULL)
		return false;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
	cfg->nwatched++;
	return true;
}

bool
config_changed(const struct config *cfg, char *which, size_t size)
{
	size_t i;

	for (i = 0; i < cfg->nwatched; i++) {
		const struct watched *w = &cfg->watched[i];
		struct stat st;

		if (stat(w->path, &st) != 0 || st.st_ino != w->ino || st.st_size != w->size ||
		    st.st_mtim.tv_sec != w->mtime.tv_sec || st.st_mtim.tv_nsec != w->mtime.tv_nsec) {
			snprintf(which, size, "%s", w->path);
			return true;
		}
	}
	return false;
}

/* ---- the file ---- */


/* Handle one logical line "key = value" that started at W->line. */
static void
config_line(struct config *cfg, char *line, unsigned *set_at, const struct where *w)
{
	char *eq = strchr(line, '='), *name, *value;
	const struct ckey *k;

	if (eq == NULL) {
		diag_error(w->d, w->file, w->line, "expected \"key = value\"");
		return;
	}
	*eq = '\0';
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (*name == '\0') {
		diag_error(w->d, w->file, w->line, "missing key before \"=\"");
		return;
	}
	if ((k = config_keys_find(name)) == NULL) {
		diag_error(w->d, w->file, w->line, "unknown key \"%s\"", name);
		return;
	}
	if (set_at[k - config_keys] != 0) {
		diag_error(w->d, w->file, w->line, "%s already set at line %u", name, set_at[k - config_keys]);
		return;
	}
	set_at[k - config_keys] = w->line;
	config_value_parse(cfg, k, value, w);
}

/* What config_line needs for every logical line. */
struct reading {
	struct config *cfg;
	unsigned *set_at;	/* line where each key was set, 0: not yet */
	struct where w;
};

static void
config_logical(char *line, unsigned lineno, void *arg)
{
	struct reading *r = arg;

	r->w.line = lineno;
	config_line(r->cfg, line, r->set_at, &r->w);
}

/* Read PATH: logical lines (lineread.h), each "key = value". */
static void
config_read(struct config *cfg, const char *path, struct diag *d)
{
	struct reading r = {cfg, NULL, {path, 0, d}};
	char err[200];
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(d, path, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (!fsafe_check(path, fileno(fp), err, sizeof(err))) {
		diag_error(d, path, 0, "%s; refusing it", err);
		fclose(fp);
		return;
	}
	if ((r.set_at = calloc(config_nkeys, sizeof(*r.set_at))) == NULL) {
		diag_error(d, path, 0, "out of memory");
		fclose(fp);
		return;
	}
	config_watch(cfg, path, fileno(fp));
	lineread_logical(fp, path, "value", "key", d, config_logical, &r);
	free(r.set_at);
	fclose(fp);
}

struct config *
config_load(const char *path, struct diag *d)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	unsigned before = d->errors;
	size_t i;

	if (cfg == NULL || (cfg->text = calloc(config_nkeys, sizeof(char *))) == NULL ||
	    (cfg->path = strdup(path)) == NULL) {
		diag_error(d, path, 0, "out of memory");
		config_free(cfg);
		return NULL;
	}
	for (i = 0; i < config_nkeys; i++) {
		struct where w = {"(built-in default)", 0, d};

		if (config_keys[i].def != NULL)
			config_value_parse(cfg, &config_keys[i], config_keys[i].def, &w);
	}
	config_read(cfg, path, d);
	if (d->errors == before)
		config_keys_validate(cfg, d);
	if (d->errors != before) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < config_nkeys; i++) {
		config_value_clear(cfg, &config_keys[i]);
		if (cfg->text != NULL)
			free(cfg->text[i]);
	}
	free(cfg->text);
	for (i = 0; i < cfg->nwatched; i++)
		free(cfg->watched[i].path);
	free(cfg->watched);
	free(cfg->path);
	free(cfg);
}

void
config_diff(const struct config *old, const struct config *cfg, char *buf, size_t size)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, buf, size);
	for (i = 0; i < config_nkeys; i++) {
		const char *a = old ? old->text[i] : NULL, *b = cfg->text[i];

		if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", config_keys[i].name);
	}
	/* Files read again that changed (rule files, list files) although no key did. */
	for (i = 0; old != NULL && i < cfg->nwatched; i++) {
		const struct watched *w = &cfg->watched[i], *o = NULL;
		size_t j;

		for (j = 0; j < old->nwatched && o == NULL; j++)
			if (strcmp(old->watched[j].path, w->path) == 0)
				o = &old->watched[j];
		if (o == NULL || o->ino != w->ino || o->size != w->size ||
		    o->mtime.tv_sec != w->mtime.tv_sec || o->mtime.tv_nsec != w->mtime.tv_nsec)
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", w->path);
	}
}

void
config_print(const struct config *cfg, FILE *fp)
{
	size_t i;

	fprintf(fp, "# effective configuration of %s\n", cfg->path);
	for (i = 0; i < config_nkeys; i++) {
		if (cfg->text[i] == NULL)
			fprintf(fp, "# %s is not set\n", config_keys[i].name);
		else
			fprintf(fp, "%s = %s\n", config_keys[i].name, cfg->text[i]);
	}
}
