/*
 * turf.c - the turf directory writer and reader (see turf.h).
 *
 * Durability follows the Maildir recipe: the copy is complete and fsynced
 * under tmp/ before it appears in new/, and new/ itself is fsynced, so a
 * copy the caller was told about survives a crash and a copy that is not
 * complete is never seen.  The final link never replaces an existing file
 * (link(2) fails with EEXIST); a name clash just takes the next name.
 */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "turf.h"

#define SPOOL_MEM     65536       /* bytes a spool keeps in memory before it spills */
#define TMP_MAX_AGE   (36 * 3600) /* Maildir: tmp/ files older than this are leftovers */
#define LINE_MAX_READ 16384       /* longest envelope line the reader accepts */

struct turf_spool {
	char *dir;
	size_t max;  /* most bytes we hold */
	size_t size; /* bytes held (after CR LF -> LF) */
	char *mem;   /* the first SPOOL_MEM bytes, until we spill */
	size_t memlen, memcap;
	int fd;       /* spill file (already unlinked), -1 while in memory */
	bool held_cr; /* the last byte added was a CR not yet written */
	enum turf_spool_state state;
	int err;
};

static atomic_ulong name_serial;
static atomic_bool stable_names;

void
turf_stable_names(bool on)
{
	atomic_store(&stable_names, on);
}

/* ---- small file helpers ---- */

static bool
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* "DIR/SUB[/NAME]" into BUF; false when it does not fit. */
static bool
path_of(char *buf, size_t size, const char *dir, const char *sub, const char *name)
{
	int n = name ? snprintf(buf, size, "%s/%s/%s", dir, sub, name)
	             : snprintf(buf, size, "%s/%s", dir, sub);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return false;
	}
	return true;
}

/* tmp/, new/ and cur/ under DIR, which must exist (a missing turf_dir is an error, not ours to
 * create). */
static bool
ensure_dirs(const char *dir)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	char path[4096];
	struct stat st;
	size_t i;

	if (stat(dir, &st) != 0)
		return false;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	for (i = 0; i < 3; i++) {
		if (!path_of(path, sizeof(path), dir, subs[i], NULL))
			return false;
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return false;
	}
	return true;
}

/* ---- the spool ---- */

struct turf_spool *
turf_spool_new(const char *dir, size_t max)
{
	struct turf_spool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL || (sp->dir = strdup(dir ? dir : "")) == NULL) {
		free(sp);
		return NULL;
	}
	sp->max = max;
	sp->fd = -1;
	return sp;
}

/* Forget everything held (over the maximum, or failed). */
static void
spool_drop(struct turf_spool *sp, enum turf_spool_state state, int err)
{
	free(sp->mem);
	sp->mem = NULL;
	sp->memlen = sp->memcap = 0;
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	sp->state = state;
	sp->err = err;
}

void
turf_spool_free(struct turf_spool *sp)
{
	if (sp == NULL)
		return;
	spool_drop(sp, SPOOL_OK, 0);
	free(sp->dir);
	free(sp);
}

/* An unlinked file under DIR/tmp for the bytes beyond SPOOL_MEM. */
static int
spill_open(const char *dir)
{
	char path[4096];
	int fd;

	if (!ensure_dirs(dir) || !path_of(path, sizeof(path), dir, "tmp", NULL))
		return -1;
#ifdef O_TMPFILE
	if ((fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
#endif
	if (!path_of(path, sizeof(path), dir, "tmp", ".spool.XXXXXX"))
		return -1;
	if ((fd = mkstemp(path)) >= 0)
		unlink(path);
	return fd;
}

/* Hold N more (already converted) bytes. */
static void
spool_put(struct turf_spool *sp, const char *p, size_t n)
{
	if (sp->state != SPOOL_OK || n == 0)
		return;
	if (n > sp->max - sp->size) {
		spool_drop(sp, SPOOL_OVER, 0);
		return;
	}
	if (sp->fd < 0 && sp->memlen + n <= SPOOL_MEM) {
		if (sp->memlen + n > sp->memcap) {
			size_t ncap = sp->memcap ? sp->memcap : 4096;
			char *m;

			while (ncap < sp->memlen + n)
				ncap *= 2;
			if ((m = realloc(sp->mem, ncap)) == NULL) {
				spool_drop(sp, SPOOL_FAILED, ENOMEM);
				return;
			}
			sp->mem = m;
			sp->memcap = ncap;
		}
		memcpy(sp->mem + sp->memlen, p, n);
		sp->memlen += n;
		sp->size += n;
		return;
	}
	if (sp->fd < 0) {
		if ((sp->fd = spill_open(sp->dir)) < 0 || !write_all(sp->fd, sp->mem, sp->memlen)) {
			spool_drop(sp, SPOOL_FAILED, errno);
			return;
		}
		free(sp->mem);
		sp->mem = NULL;
		sp->memlen = sp->memcap = 0;
	}
	if (!write_all(sp->fd, p, n)) {
		spool_drop(sp, SPOOL_FAILED, errno);
		return;
	}
	sp->size += n;
}

void
turf_spool_add(struct turf_spool *sp, const void *data, size_t len)
{
	const char *p = data;
	char out[8192];
	size_t i, o = 0;

	if (sp == NULL || sp->state != SPOOL_OK)
		return;
	for (i = 0; i < len; i++) {
		if (o + 2 > sizeof(out)) {
			spool_put(sp, out, o);
			o = 0;
		}
		if (sp->held_cr) {
			sp->held_cr = false;
			if (p[i] != '\n')
				out[o++] = '\r'; /* a lone CR stays */
		}
		if (p[i] == '\r')
			sp->held_cr = true;
		else
			out[o++] = p[i];
	}
	spool_put(sp, out, o);
}

enum turf_spool_state
turf_spool_state(const struct turf_spool *sp, int *errnum)
{
	if (errnum != NULL)
		*errnum = sp ? sp->err : 0;
	return sp ? sp->state : SPOOL_FAILED;
}

/* Copy the held bytes to FD. */
static bool
spool_copy(struct turf_spool *sp, int fd)
{
	char buf[65536];
	off_t off = 0;

	if (sp->held_cr) {
		sp->held_cr = false;
		spool_put(sp, "\r", 1);
		if (sp->state != SPOOL_OK)
			return errno = sp->err ? sp->err : EFBIG, false;
	}
	if (sp->fd < 0)
		return write_all(fd, sp->mem, sp->memlen);
	while ((size_t)off < sp->size) {
		ssize_t n = pread(sp->fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		if (!write_all(fd, buf, (size_t)n))
			return false;
		off += n;
	}
	return true;
}

/* ---- names and the envelope ---- */

/* A fresh copy name: "SECONDS.MUSECPpidQserial.host", or "whatif.N". */
static void
new_name(char *buf, size_t size)
{
	unsigned long q = atomic_fetch_add(&name_serial, 1) + 1;
	struct timespec ts;
	char host[128], *h;

	if (atomic_load(&stable_names)) {
		snprintf(buf, size, "whatif.%lu", q);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (gethostname(host, sizeof(host)) != 0)
		str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* Maildir names must not hold "/" or ":"; keep them plain for shells too. */
	for (h = host; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-' || *h == '.'))
			*h = '_';
	snprintf(buf, size, "%lld.M%06ldP%ldQ%lu.%s", (long long)ts.tv_sec, ts.tv_nsec / 1000,
	         (long)getpid(), q, host);
}

/* One "X-Relayguard-NAME: value" line, the value made printable. */
static bool
env_line(int fd, const char *name, const char *value, const char *suffix)
{
	char line[2048];
	struct strbuf sb;

	strbuf_init(&sb, line, sizeof(line));
	strbuf_addf(&sb, "X-Relayguard-%s: ", name);
	strbuf_add_printable(&sb, value ? value : "", 1024);
	if (suffix != NULL)
		strbuf_addf(&sb, " %s", suffix);
	strbuf_addc(&sb, '\n');
	return write_all(fd, line, sb.len);
}

static bool
write_envelope(int fd, const char *id, const struct turf_envelope *env)
{
	char when[40];
	struct tm tm;
	size_t i;

	gmtime_r(&env->when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!env_line(fd, "Turf", id, NULL) || !env_line(fd, "Time", when, NULL) ||
	    !env_line(fd, "Rule", env->rule, NULL) || !env_line(fd, "Detail", env->detail, NULL) ||
	    !env_line(fd, "Queue-Id", env->queue_id, NULL) ||
	    !env_line(fd, "Client", env->client, NULL) || !env_line(fd, "Helo", env->helo, NULL) ||
	    !env_line(fd, "Sender", env->sender, NULL))
		return false;
	for (i = 0; i < env->nrcpts; i++)
		if (!env_line(fd, "Recipient", env->rcpts[i],
		              env->turfed == NULL || env->turfed[i] ? "turfed" : "passed"))
			return false;
	return env_line(fd, "End", "envelope", NULL);
}

/* ---- commit ---- */

static bool
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

/* Make TMP visible as new/NAME without replacing anything; NAME may change on a clash. */
static bool
publish(const char *dir, const char *tmp, char *name, size_t namesize, char *newpath, size_t size)
{
	int tries;

	for (tries = 0; tries < 20; tries++) {
		if (!path_of(newpath, size, dir, "new", name))
			return false;
		if (link(tmp, newpath) == 0)
			return true;
		if (errno == EEXIST) {
			new_name(name, namesize);
			continue;
		}
		/* A file system without hard links: rename, having looked first. */
		if ((errno == EPERM || errno == ENOTSUP || errno == ENOSYS) &&
		    access(newpath, F_OK) != 0)
			return rename(tmp, newpath) == 0;
		return false;
	}
	errno = EEXIST;
	return false;
}

bool
turf_commit(const char *dir, struct turf_spool *sp, const struct turf_envelope *env, char *id,
            size_t idsize, char *err, size_t errsize)
{
	char name[TURF_ID_MAX + 1], tmp[4096], newpath[4096], newdir[4096];
	const char *step = "cannot create the copy";
	int fd = -1, e;
	bool linked = false;

	if (turf_spool_state(sp, &e) != SPOOL_OK) {
		snprintf(err, errsize, "%s",
		         sp && sp->state == SPOOL_OVER ? "message over turf_max_size"
		                                       : strerror(e ? e : EIO));
		return false;
	}
	new_name(name, sizeof(name));
	if (!ensure_dirs(dir) || !path_of(tmp, sizeof(tmp), dir, "tmp", name) ||
	    !path_of(newdir, sizeof(newdir), dir, "new", NULL))
		goto fail;
	if ((fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600)) < 0)
		goto fail;
	step = "cannot write the copy";
	if (!write_envelope(fd, name, env) || !spool_copy(sp, fd))
		goto fail;
	step = "cannot sync the copy";
	if (fsync(fd) != 0)
		goto fail;
	e = close(fd);
	fd = -1;
	if (e != 0)
		goto fail;
	step = "cannot move the copy into new/";
	if (!publish(dir, tmp, name, sizeof(name), newpath, sizeof(newpath)))
		goto fail;
	linked = true;
	unlink(tmp); /* after link(); gone already after a rename */
	step = "cannot sync new/";
	if (!fsync_dir(newdir))
		goto fail;
	snprintf(id, idsize, "%s", name);
	return true;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (linked)
		unlink(newpath); /* not durable: the sender will retry, so leave no duplicate */
	snprintf(err, errsize, "%s: %s", step, strerror(e));
	return false;
}

/* ---- reading ---- */

bool
turf_id_valid(const char *id)
{
	const char *p;

	if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > TURF_ID_MAX)
		return false;
	for (p = id; *p != '\0'; p++)
		if (*p == '/' || *p <= ' ' || *p > '~')
			return false;
	return true;
}

/* Find ID in new/ or cur/; fill PATH and *ST. */
static bool
find_copy(const char *dir, const char *id, char *path, size_t size, struct stat *st)
{
	if (!turf_id_valid(id)) {
		errno = EINVAL;
		return false;
	}
	if (path_of(path, size, dir, "new", id) && stat(path, st) == 0 && S_ISREG(st->st_mode))
		return true;
	if (path_of(path, size, dir, "cur", id) && stat(path, st) == 0 && S_ISREG(st->st_mode))
		return true;
	errno = ENOENT;
	return false;
}

static bool
entry_add_rcpt(struct turf_entry *e, const char *value)
{
	const char *sp = strrchr(value, ' ');
	size_t n = sp ? (size_t)(sp - value) : strlen(value);
	char **r = realloc(e->rcpts, (e->nrcpts + 1) * sizeof(*r));
	bool *t;

	if (r == NULL)
		return false;
	e->rcpts = r;
	if ((t = realloc(e->turfed, (e->nrcpts + 1) * sizeof(*t))) == NULL)
		return false;
	e->turfed = t;
	if ((e->rcpts[e->nrcpts] = strndup(value, n)) == NULL)
		return false;
	e->turfed[e->nrcpts] = sp == NULL || strcmp(sp + 1, "passed") != 0;
	e->nrcpts++;
	return true;
}

/* Store one envelope line NAME: VALUE into *E. */
static bool
entry_field(struct turf_entry *e, const char *name, const char *value)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
#define FLD(n, f) {n, offsetof(struct turf_entry, f), sizeof(((struct turf_entry *)0)->f)}
	    FLD("Time", time),         FLD("Rule", rule),     FLD("Detail", detail),
	    FLD("Queue-Id", queue_id), FLD("Client", client), FLD("Helo", helo),
	    FLD("Sender", sender),
#undef FLD
	};
	size_t i;

	if (strcmp(name, "Recipient") == 0)
		return entry_add_rcpt(e, value);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(name, fields[i].name) == 0)
			str_copy((char *)e + fields[i].off, fields[i].size, value);
	return true;
}

/* Read the envelope block of FP into *E; false when it is not complete. */
static bool
read_envelope(FILE *fp, struct turf_entry *e, char *err, size_t errsize)
{
	char line[LINE_MAX_READ];
	bool first = true;

	while (fgets(line, sizeof(line), fp) != NULL) {
		char *colon, *value;
		size_t len = strlen(line);

		if (len == 0 || line[len - 1] != '\n' || strncmp(line, "X-Relayguard-", 13) != 0 ||
		    (colon = strchr(line, ':')) == NULL)
			break;
		line[len - 1] = '\0';
		*colon = '\0';
		value = colon + 1 + (colon[1] == ' ');
		if (first && strcmp(line + 13, "Turf") != 0)
			break;
		first = false;
		if (strcmp(line + 13, "End") == 0) {
			e->msg_offset = ftello(fp);
			return true;
		}
		if (!entry_field(e, line + 13, value)) {
			snprintf(err, errsize, "out of memory");
			return false;
		}
	}
	snprintf(err, errsize, "%s has no complete relayguard envelope", e->id);
	return false;
}

bool
turf_read(const char *dir, const char *id, struct turf_entry *e, char *err, size_t errsize)
{
	struct stat st;
	FILE *fp;
	bool ok;

	memset(e, 0, sizeof(*e));
	if (!find_copy(dir, id, e->path, sizeof(e->path), &st)) {
		snprintf(err, errsize, "%s: %s",
		         turf_id_valid(id) ? "no such copy" : "not a copy name", id ? id : "");
		return false;
	}
	str_copy(e->id, sizeof(e->id), id);
	e->mtime = st.st_mtime;
	if ((fp = fopen(e->path, "r")) == NULL) {
		snprintf(err, errsize, "%s: %s", e->path, strerror(errno));
		return false;
	}
	ok = read_envelope(fp, e, err, errsize);
	fclose(fp);
	if (ok)
		e->msg_size = st.st_size - e->msg_offset;
	else
		turf_entry_free(e);
	return ok;
}

void
turf_entry_free(struct turf_entry *e)
{
	size_t i;

	for (i = 0; i < e->nrcpts; i++)
		free(e->rcpts[i]);
	free(e->rcpts);
	free(e->turfed);
	e->rcpts = NULL;
	e->turfed = NULL;
	e->nrcpts = 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the copy names of DIR/SUB to *IDS. */
static bool
collect(const char *dir, const char *sub, char ***ids, size_t *n, size_t *cap)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if (!path_of(path, sizeof(path), dir, sub, NULL))
		return false;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT; /* a turf_dir no copy has used yet */
	while ((de = readdir(d)) != NULL) {
		if (!turf_id_valid(de->d_name))
			continue;
		if (*n + 2 > *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			char **r = realloc(*ids, ncap * sizeof(*r));

			if (r == NULL)
				break;
			*ids = r;
			*cap = ncap;
		}
		if (((*ids)[*n] = strdup(de->d_name)) == NULL)
			break;
		(*ids)[++*n] = NULL;
	}
	closedir(d);
	return de == NULL;
}

char **
turf_ids(const char *dir, char *err, size_t errsize)
{
	char **ids = calloc(1, sizeof(*ids));
	size_t n = 0, cap = 1;
	struct stat st;

	if (ids == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (stat(dir, &st) != 0 || !collect(dir, "new", &ids, &n, &cap) ||
	    !collect(dir, "cur", &ids, &n, &cap)) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		turf_ids_free(ids);
		return NULL;
	}
	qsort(ids, n, sizeof(*ids), cmp_str);
	return ids;
}

void
turf_ids_free(char **ids)
{
	char **p;

	if (ids == NULL)
		return;
	for (p = ids; *p != NULL; p++)
		free(*p);
	free(ids);
}

bool
turf_remove(const char *dir, const char *id, char *err, size_t errsize)
{
	char path[4096];
	struct stat st;

	if (!find_copy(dir, id, path, sizeof(path), &st) || unlink(path) != 0) {
		snprintf(err, errsize, "%s: %s", id, strerror(errno));
		return false;
	}
	return true;
}

/* Remove the files of DIR/SUB last modified before CUTOFF. */
static bool
purge_sub(const char *dir, const char *sub, time_t cutoff, unsigned *removed, char *err,
          size_t errsize)
{
	char path[4096], file[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (!path_of(path, sizeof(path), dir, sub, NULL) || (d = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return true;
		snprintf(err, errsize, "%s/%s: %s", dir, sub, strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    !path_of(file, sizeof(file), dir, sub, de->d_name) || lstat(file, &st) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= cutoff)
			continue;
		if (unlink(file) != 0) {
			snprintf(err, errsize, "%s: %s", file, strerror(errno));
			closedir(d);
			return false;
		}
		if (removed != NULL)
			(*removed)++;
	}
	closedir(d);
	return true;
}

bool
turf_purge(const char *dir, time_t cutoff, unsigned *removed, char *err, size_t errsize)
{
	struct stat st;

	*removed = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno ? errno : ENOTDIR));
		return false;
	}
	return purge_sub(dir, "new", cutoff, removed, err, errsize) &&
	       purge_sub(dir, "cur", cutoff, removed, err, errsize) &&
	       purge_sub(dir, "tmp", time(NULL) - TMP_MAX_AGE, NULL, err, errsize);
}
