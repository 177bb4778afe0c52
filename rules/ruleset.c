/*
 * ruleset.c - loading rule files into one set (see ruleset.h).
 *
 * Files are read line by line like relayguard.conf: "#" comments, blank
 * lines, and lines that start with white space continue the rule above
 * them (Postfix's rule for its lookup tables).  Each logical line goes to
 * ruleparse_line; errors are collected, not fatal, so one run of
 * relayguard -n shows every problem in every file.  Once every file has
 * parsed, the rules are grouped into slots and their literal prefilters
 * built (ruleset_priv.h).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "fsafe.h"
#include "lineread.h"
#include "ruleeval.h"
#include "ruleparse.h"
#include "ruleset_priv.h"
#include "snapshot.h"
#include "strbuf.h"
#include "strset.h"

struct loader {
	struct ruleset *rs;
	struct config *cfg;	/* NULL for ruleset_from_text */
	const char *where;	/* the configuration file, for problems with the rules key itself */
	struct diag *d;
	pcre2_compile_context *cc;
	char **seen;		/* real paths already loaded */
	size_t nseen;
	bool capped;		/* CAP_RULES reached and reported */
};

static void
add_rule(struct loader *ld, const char *line, const char *file, const char *idfile, unsigned lineno)
{
	struct ruleset *rs = ld->rs;
	struct rule r;

	if (rs->nrules == CAP_RULES) {
		if (!ld->capped)
			diag_error(ld->d, file, lineno, "more than %d rules in the set", CAP_RULES);
		ld->capped = true;
		return;
	}
	memset(&r, 0, sizeof(r));
	if (!ruleparse_line(line, file, idfile, lineno, ld->cc, &r, ld->d))
		return;
	if (rs->nrules == rs->caprules) {
		size_t ncap = rs->caprules ? 2 * rs->caprules : 16;
		struct rule *n = realloc(rs->rules, ncap * sizeof(*n));

		if (n == NULL) {
			diag_error(ld->d, file, lineno, "out of memory");
			ruleparse_free(&r);
			return;
		}
		rs->rules = n;
		rs->caprules = ncap;
	}
	r.index = rs->nrules;
	rs->rules[rs->nrules++] = r;
}

/*
 * FILE as rule ids name it: relative to the configuration's directory
 * when it is below it ("rules.d/50-local.rules:12"), so ids stay short
 * and can be listed in monitor_checks (where a leading / names a file).
 */
static const char *
id_name(const struct loader *ld, const char *file)
{
	const char *slash = strrchr(ld->where, '/');
	size_t n;

	if (slash == NULL)
		return file;
	n = (size_t)(slash - ld->where) + 1;
	return strncmp(file, ld->where, n) == 0 && file[n] != '\0' ? file + n : file;
}

/* What add_rule needs for every logical line of one file. */
struct reading {
	struct loader *ld;
	const char *file, *idfile;
};

static void
rule_logical(char *line, unsigned lineno, void *arg)
{
	struct reading *r = arg;

	add_rule(r->ld, line, r->file, r->idfile, lineno);
}

/* Read FP's logical lines (lineread.h) as rules of FILE. */
static void
read_lines(struct loader *ld, FILE *fp, const char *file)
{
	struct reading r = {ld, file, ld->cfg != NULL ? id_name(ld, file) : file};

	lineread_logical(fp, file, "rule", "rule", ld->d, rule_logical, &r);
}

/* Remember PATH as loaded; false if it was loaded already (two globs naming one file). */
static bool
first_time(struct loader *ld, const char *path)
{
	char *real = realpath(path, NULL), **n;
	size_t i;

	if (real == NULL)
		return true; /* open reports the problem */
	for (i = 0; i < ld->nseen; i++) {
		if (strcmp(ld->seen[i], real) == 0) {
			free(real);
			return false;
		}
	}
	if ((n = realloc(ld->seen, (ld->nseen + 1) * sizeof(*n))) == NULL) {
		free(real);
		return true;
	}
	ld->seen = n;
	ld->seen[ld->nseen++] = real;
	return true;
}

static void
note_file(struct loader *ld, const char *path, size_t before)
{
	struct ruleset *rs = ld->rs;
	char **f = realloc(rs->files, (rs->nfiles + 1) * sizeof(*f));
	size_t *c;

	if (f == NULL)
		return;
	rs->files = f;
	if ((c = realloc(rs->file_rules, (rs->nfiles + 1) * sizeof(*c))) == NULL)
		return;
	rs->file_rules = c;
	if ((rs->files[rs->nfiles] = strdup(path)) == NULL)
		return;
	rs->file_rules[rs->nfiles++] = rs->nrules - before;
}

static void
load_file(struct loader *ld, const char *path)
{
	char err[300];
	struct stat st;
	size_t before = ld->rs->nrules;
	FILE *fp;
	int fd;

	if (!first_time(ld, path))
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		diag_error(ld->d, ld->where, 0, "rules: cannot open %s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error(ld->d, ld->where, 0, "rules: %s is not a regular file", path);
		close(fd);
		return;
	}
	if (!fsafe_check(path, fd, err, sizeof(err))) {
		diag_error(ld->d, path, 0, "%s; refusing it", err);
		close(fd);
		return;
	}
	config_watch(ld->cfg, path, fd);
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	read_lines(ld, fp, path);
	fclose(fp);
	note_file(ld, path, before);
}

/* Watch DIR, so reload_on_change sees a rule file added to or removed from it. */
static bool
watch_dir(struct loader *ld, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return false;
	config_watch(ld->cfg, dir, fd);
	close(fd);
	return true;
}

/* One item of the rules key: a file, or a glob whose matches load in name order. */
static void
load_item(struct loader *ld, const char *item)
{
	char *path = config_resolve_path(ld->where, item), *slash;
	glob_t g;
	size_t i;
	int rc;

	if (path == NULL)
		return;
	if (strpbrk(path, "*?[") == NULL) {
		load_file(ld, path);
		free(path);
		return;
	}
	slash = strrchr(path, '/');
	if (slash != NULL && strpbrk(path, "*?[") > slash) {
		*slash = '\0';
		if (!watch_dir(ld, slash == path ? "/" : path)) {
			diag_error(ld->d, ld->where, 0, "rules: cannot read the directory %s: %s",
			    slash == path ? "/" : path, strerror(errno));
			free(path);
			return;
		}
		*slash = '/';
	}
	rc = glob(path, GLOB_ERR, NULL, &g);
	if (rc == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			load_file(ld, g.gl_pathv[i]);
	} else if (rc != GLOB_NOMATCH) {
		diag_error(ld->d, ld->where, 0, "rules: cannot expand %s", path);
	}
	if (rc == 0 || rc == GLOB_NOMATCH)
		globfree(&g);
	free(path);
}

/* ---- building ---- */

static struct rslot *
slot_for(struct ruleset *rs, size_t from, const struct rule *r)
{
	const struct rtest *m = &r->main;
	struct rslot *s;
	size_t i;

	for (i = from; i < rs->nslots; i++) {
		s = &rs->slots[i];
		if (s->field != m->field)
			continue;
		if (m->name == NULL || (m->field == RF_HEADER ? str_ieq(s->name, m->name)
							       : strcmp(s->name, m->name) == 0))
			return s;
	}
	if ((s = realloc(rs->slots, (rs->nslots + 1) * sizeof(*s))) == NULL)
		return NULL;
	rs->slots = s;
	s = &rs->slots[rs->nslots];
	memset(s, 0, sizeof(*s));
	s->stage = r->stage;
	s->field = m->field;
	if (m->name != NULL && (s->name = strdup(m->name)) == NULL)
		return NULL;
	rs->nslots++;
	return s;
}

static bool
slot_always(struct rslot *s, uint32_t id)
{
	uint32_t *n = realloc(s->always, (s->nalways + 1) * sizeof(*n));

	if (n == NULL)
		return false;
	s->always = n;
	s->always[s->nalways++] = id;
	return true;
}

/* Put R in slot S: behind its literals, or on the always list. */
static bool
slot_add(struct ruleset *rs, struct rslot *s, const struct rule *r)
{
	const struct rtest *m = &r->main;
	struct prefilter_lits lits;
	const char *body, *end;
	size_t k;

	s->nrules++;
	if (m->field == RF_NONE || m->negate)
		return slot_always(s, (uint32_t)r->index);
	body = strchr(m->source, '/') + 1;
	end = strrchr(m->source, '/');
	if (!prefilter_extract(body, (size_t)(end - body), m->extended, &lits))
		return slot_always(s, (uint32_t)r->index);
	if (s->pf == NULL && (s->pf = prefilter_new()) == NULL)
		return false;
	for (k = 0; k < lits.n; k++)
		if (!prefilter_add(s->pf, lits.lit[k], lits.len[k], (uint32_t)r->index))
			return false;
	rs->nprefiltered++;
	return true;
}

static bool
build(struct ruleset *rs, long match_limit)
{
	size_t i, st;

	for (st = 0; st < STAGE_COUNT; st++) {
		rs->first[st] = rs->nslots;
		for (i = 0; i < rs->nrules; i++) {
			struct rslot *s;

			if (rs->rules[i].stage != st)
				continue;
			if ((s = slot_for(rs, rs->first[st], &rs->rules[i])) == NULL ||
			    !slot_add(rs, s, &rs->rules[i]))
				return false;
			if (st == STAGE_HEADER)
				rs->needs |= NEED_HEADERS;
			if (st == STAGE_BODY)
				rs->needs |= NEED_BODY;
			/* Carried out at eom: the copy must be kept from the first header. */
			if (rs->rules[i].action == RA_TURF && st != STAGE_RCPT)
				rs->needs |= NEED_TURF_COPY;
		}
		rs->count[st] = rs->nslots - rs->first[st];
	}
	for (i = 0; i < rs->nslots; i++)
		if (rs->slots[i].pf != NULL && !prefilter_build(rs->slots[i].pf))
			return false;
	return (rs->mc = ruleeval_match_context(match_limit)) != NULL;
}

/* Rule names must be unique: they name the rule in logs and monitor_checks. */
static void
check_names(struct loader *ld)
{
	struct strset *names = strset_new();
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < ld->rs->nrules; i++) {
		const struct rule *r = &ld->rs->rules[i];

		if (strchr(r->id, ':') != NULL)
			continue; /* file:line */
		if (strset_contains(names, r->id))
			diag_error(ld->d, r->file, r->line, "rule name \"%s\" is used by an earlier rule", r->id);
		else
			strset_add(names, r->id);
	}
	strset_free(names);
}

/* Finish LD after every file: names, slots, prefilters.  Returns the set or NULL. */
static struct ruleset *
finish(struct loader *ld, unsigned before, long match_limit)
{
	size_t i;

	for (i = 0; i < ld->nseen; i++)
		free(ld->seen[i]);
	free(ld->seen);
	pcre2_compile_context_free(ld->cc);
	check_names(ld);
	if (ld->d->errors == before && !build(ld->rs, match_limit))
		diag_error(ld->d, ld->where, 0, "rules: out of memory");
	if (ld->d->errors != before) {
		ruleset_free(ld->rs);
		return NULL;
	}
	return ld->rs;
}

static bool
loader_init(struct loader *ld, struct config *cfg, const char *where, struct diag *d)
{
	memset(ld, 0, sizeof(*ld));
	ld->cfg = cfg;
	ld->where = where;
	ld->d = d;
	if ((ld->rs = calloc(1, sizeof(*ld->rs))) == NULL || (ld->cc = ruleparse_context()) == NULL) {
		free(ld->rs);
		diag_error(d, where, 0, "rules: out of memory");
		return false;
	}
	return true;
}

/* TURF without turf_dir keeps no copy: say so once, as for turf_senders. */
static void
warn_turf(const struct ruleset *rs, const struct config *cfg, struct diag *d)
{
	size_t i;

	for (i = 0; rs != NULL && cfg->turf_dir == NULL && i < rs->nrules; i++) {
		if (rs->rules[i].action == RA_TURF) {
			diag_warn(d, rs->rules[i].file, rs->rules[i].line,
			    "TURF without turf_dir is a plain discard: no copy is kept");
			return;
		}
	}
}

struct ruleset *
ruleset_load(struct config *cfg, struct diag *d)
{
	struct loader ld;
	unsigned before = d->errors;
	struct ruleset *rs;
	char *copy, *p, *item;

	if (!loader_init(&ld, cfg, cfg->path, d))
		return NULL;
	if (cfg->rules != NULL && (copy = strdup(cfg->rules)) != NULL) {
		for (p = copy; (item = strsep(&p, " \t,")) != NULL;)
			if (*item != '\0')
				load_item(&ld, item);
		free(copy);
	}
	rs = finish(&ld, before, cfg->rules_match_limit);
	warn_turf(rs, cfg, d);
	return rs;
}

struct ruleset *
ruleset_from_text(const char *text, const char *name, long match_limit, struct diag *d)
{
	struct loader ld;
	unsigned before = d->errors;
	FILE *fp;

	if (!loader_init(&ld, NULL, name, d))
		return NULL;
	if ((fp = fmemopen((void *)text, strlen(text), "r")) == NULL) {
		diag_error(d, name, 0, "out of memory");
	} else {
		read_lines(&ld, fp, name);
		fclose(fp);
	}
	return finish(&ld, before, match_limit);
}

void
ruleset_free(struct ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		ruleparse_free(&rs->rules[i]);
	for (i = 0; i < rs->nslots; i++) {
		free(rs->slots[i].name);
		free(rs->slots[i].always);
		prefilter_free(rs->slots[i].pf);
	}
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	free(rs->file_rules);
	free(rs->rules);
	free(rs->slots);
	pcre2_match_context_free(rs->mc);
	free(rs);
}

size_t
ruleset_count(const struct ruleset *rs)
{
	return rs ? rs->nrules : 0;
}

unsigned
ruleset_needs(const struct ruleset *rs)
{
	return rs ? rs->needs : 0;
}

bool
ruleset_has_id(const struct ruleset *rs, const char *id)
{
	size_t i;

	for (i = 0; rs != NULL && i < rs->nrules; i++)
		if (str_ieq(rs->rules[i].id, id))
			return true;
	return false;
}

void
ruleset_print(const struct ruleset *rs, FILE *fp)
{
	size_t i, st, per[STAGE_COUNT] = {0}, states = 0;

	if (rs == NULL || rs->nrules == 0) {
		fprintf(fp, "# rules: none\n");
		return;
	}
	fprintf(fp, "# rules: %zu rule%s from %zu file%s\n", rs->nrules, rs->nrules == 1 ? "" : "s",
	    rs->nfiles, rs->nfiles == 1 ? "" : "s");
	for (i = 0; i < rs->nfiles; i++)
		fprintf(fp, "#   %s: %zu rule%s\n", rs->files[i], rs->file_rules[i],
		    rs->file_rules[i] == 1 ? "" : "s");
	for (i = 0; i < rs->nrules; i++)
		per[rs->rules[i].stage]++;
	fprintf(fp, "# rules per stage:");
	for (st = 0; st < STAGE_COUNT; st++)
		if (per[st] > 0)
			fprintf(fp, " %s %zu", stage_name((enum stage)st), per[st]);
	for (i = 0; i < rs->nslots; i++)
		states += prefilter_states(rs->slots[i].pf);
	fprintf(fp, "\n# prefilter: %zu of %zu rules run only when their literal occurs (%zu states)\n",
	    rs->nprefiltered, rs->nrules, states);
}
