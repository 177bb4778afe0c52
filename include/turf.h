/*
 * turf.h - the turf directory: copies of the mail relayguard accepted and
 * then dropped, kept so that nothing is lost (DESIGN "Turf" and "Nothing
 * is lost"), and the reading side for "relayguard turf".
 *
 * Layout is Maildir (tmp/, new/, cur/ under turf_dir).  A copy is written
 * to tmp/NAME, fsynced, linked into new/NAME (an existing file is never
 * replaced), new/ is fsynced, and tmp/NAME removed: once turf_commit has
 * said yes the copy survives a crash.  A copy is our envelope block, then
 * the message as it arrived (every header as the MTA passed it, "Name:
 * value", a blank line, the body), with LF line ends as Maildir wants:
 *
 *   X-Relayguard-Turf: NAME                  always the first line
 *   X-Relayguard-Time: 2024-05-22T18:13:20Z
 *   X-Relayguard-Rule: loop                  what decided
 *   X-Relayguard-Detail: ...
 *   X-Relayguard-Queue-Id: 4Vq9XYZ
 *   X-Relayguard-Client: mail.example.net [192.0.2.1]
 *   X-Relayguard-Helo: mail.example.net
 *   X-Relayguard-Sender: <a@example.net>
 *   X-Relayguard-Recipient: <x@example.com> turfed   one per recipient,
 *   X-Relayguard-Recipient: <y@example.com> passed   "passed" went on
 *   X-Relayguard-End: envelope
 *
 * Envelope values are made printable (no CR, LF or control bytes), and the
 * first X-Relayguard-End line ends the block, so a message that carries
 * X-Relayguard-* headers of its own cannot add recipients to a release.
 *
 * While a message streams, its bytes go to a spool: memory up to 64 KiB,
 * then an unlinked file in turf_dir/tmp, never more than the spool's
 * maximum (turf_max_size).  Past the maximum the spool drops what it held
 * and says so; the caller then quarantines the message in the MTA instead
 * of keeping a cut copy.
 *
 * Thread-safety: a spool belongs to one session; the other functions
 * touch only the files they are given and may run in any thread.  Names
 * are unique per process (a counter) and per host (time, pid, host name).
 */
#ifndef RG_TURF_H
#define RG_TURF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define TURF_ID_MAX 200 /* longest copy name we make or accept */

struct turf_spool;

enum turf_spool_state {
	SPOOL_OK = 0, /* everything added so far is held */
	SPOOL_OVER,   /* more than the maximum was added: nothing is held */
	SPOOL_FAILED, /* the spill file could not be written: nothing is held */
};

/*
 * A new empty spool for a message whose copy would go to DIR, holding at
 * most MAX bytes.  No file is touched until 64 KiB have been added.  NULL
 * when out of memory.
 */
struct turf_spool *turf_spool_new(const char *dir, size_t max);

/* Release a spool and its spill file; accepts NULL. */
void turf_spool_free(struct turf_spool *sp);

/*
 * Append LEN bytes of DATA.  A CR LF pair becomes LF, also when the CR
 * ends one call and the LF starts the next; a lone CR is kept.  Once the
 * spool is over or failed, further data is ignored.
 */
void turf_spool_add(struct turf_spool *sp, const void *data, size_t len);

/* The state; *ERRNUM (may be NULL) gets the errno of a failure. */
enum turf_spool_state turf_spool_state(const struct turf_spool *sp, int *errnum);

/* The envelope of one copy; every string may be NULL (written as empty). */
struct turf_envelope {
	const char *rule; /* what decided: "turf", "loop", "file:line" */
	const char *detail;
	const char *queue_id;
	const char *client; /* "name [address]" */
	const char *helo;
	const char *sender; /* the path as the client typed it */
	const char *const *rcpts;
	const bool *turfed; /* per recipient: this copy is theirs (else it passed) */
	size_t nrcpts;
	time_t when;
};

/*
 * Write the copy of SP's message with ENV into DIR (creating tmp/, new/
 * and cur/ when DIR exists but they do not).  On success the copy is on
 * disk and its name is in ID (IDSIZE >= TURF_ID_MAX + 1).  On failure
 * (DIR missing, not writable, disk full, SP not OK) nothing is left
 * behind and ERR says why.  SP is not consumed.
 */
bool turf_commit(const char *dir, struct turf_spool *sp, const struct turf_envelope *env, char *id,
                 size_t idsize, char *err, size_t errsize);

/*
 * Name copies "whatif.N" (N counting from 1 in this process) instead of by
 * time, pid and host, so what-if transcripts are the same on every run.
 */
void turf_stable_names(bool on);

/* ---- reading (relayguard turf list | show | release | purge) ---- */

/* One copy as read back. */
struct turf_entry {
	char id[TURF_ID_MAX + 1];
	char path[4096]; /* DIR/new/ID or DIR/cur/ID */
	char time[40];
	char rule[128];
	char detail[512];
	char queue_id[80];
	char client[320];
	char helo[320];
	char sender[320];
	char **rcpts; /* every recipient, as written */
	bool *turfed; /* per recipient */
	size_t nrcpts;
	off_t msg_offset; /* where the message starts in the file */
	off_t msg_size;   /* its length */
	time_t mtime;
};

/*
 * Is ID a name a copy can have (no "/", not "." or "..", printable, at
 * most TURF_ID_MAX bytes)?
 */
bool turf_id_valid(const char *id);

/*
 * Read the envelope of copy ID in DIR (new/ first, then cur/) into *E.
 * False with ERR set when there is no such copy or it has no complete
 * envelope block.  Free with turf_entry_free.
 */
bool turf_read(const char *dir, const char *id, struct turf_entry *e, char *err, size_t errsize);

/* Free what turf_read allocated; accepts a zeroed entry. */
void turf_entry_free(struct turf_entry *e);

/*
 * The names of every copy in DIR (new/ and cur/), sorted, as a malloc'd
 * NULL-terminated array of malloc'd strings (free with turf_ids_free).
 * NULL with ERR set when DIR cannot be read.
 */
char **turf_ids(const char *dir, char *err, size_t errsize);
void turf_ids_free(char **ids);

/* Remove copy ID; false with ERR set when it cannot be. */
bool turf_remove(const char *dir, const char *id, char *err, size_t errsize);

/*
 * Remove every copy last modified before CUTOFF, and tmp/ leftovers older
 * than 36 hours (the Maildir rule).  *REMOVED counts copies removed.
 * False with ERR set on the first failure.
 */
bool turf_purge(const char *dir, time_t cutoff, unsigned *removed, char *err, size_t errsize);

#endif
