/*
 * session.h - the state of one SMTP connection as the core sees it: the
 * facts the MTA reported (client, interface, HELO, authentication, macros),
 * the current message (sender, accepted recipients, changes to apply) and
 * the snapshot the connection started with.
 *
 * Ownership: the glue creates one session per connection and frees it at
 * close; message state is reset by decide_abort and at the end of
 * decide_eom.  A session is used by one thread at a time (libmilter never
 * overlaps callbacks of one connection) but not always the same thread:
 * never keep session state in thread-local storage.
 */
#ifndef RG_SESSION_H
#define RG_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "changes.h"
#include "services.h"
#include "snapshot.h"
#include "verdict.h"

struct session;

/* A new session on SNAP (a reference is taken) and SVC (borrowed, may be NULL). */
struct session *session_new(struct snapshot *snap, struct services *svc);

/* Free the session and drop its snapshot reference.  Accepts NULL. */
void session_free(struct session *s);

/*
 * Record an MTA macro ("{auth_authen}", "i", "{daemon_addr}").  VALUE NULL
 * or empty removes it.  Values are copied and cut at CAP_MACRO_LEN.
 */
void session_set_macro(struct session *s, const char *name, const char *value);

/* The value of macro NAME or NULL. */
const char *session_macro(const struct session *s, const char *name);

/* The snapshot this session runs on. */
const struct snapshot *session_snapshot(const struct session *s);

/* Changes to apply at end of message (valid until the message is reset). */
const struct changes *session_changes(const struct session *s);

/*
 * Copy into OUT (room for MAX) the further decisions the last event made
 * besides its verdict (a rule's WARN before a built-in check refused; a
 * second body line that matched), and forget them.  Returns how many.
 * Every one of them has been logged already; the what-if mode prints them.
 */
size_t session_take_also(struct session *s, struct verdict *out, size_t max);

/* Number of recipients accepted so far in the current message. */
size_t session_rcpt_count(const struct session *s);

/*
 * The counters the last decision used, one "name[key] = value ..." per
 * line ("" when none), for the what-if output.  Valid until the next
 * decide_* call on S.
 */
const char *session_counters(const struct session *s);

/*
 * The name of the turf copy decide_eom wrote for the current message
 * (relative to turf_dir/new), or NULL if it wrote none.  Valid until the
 * message is reset.
 */
const char *session_turf_id(const struct session *s);

/*
 * What the glue agreed with the MTA for this connection during option
 * negotiation; the core keeps it for the glue and never looks at it.
 */
#define SESSION_CAN_SKIP	0x01	/* the MTA stops body chunks on request (SMFIP_SKIP) */
#define SESSION_HDR_NOREPLY	0x02	/* no reply to headers (SMFIP_NR_HDR) */
#define SESSION_NEGOTIATED	0x04	/* the flags above are known */
#define SESSION_EOH_AT_EOM	0x08	/* no eoh event (SMFIP_NOEOH): decide it at eom */
void session_set_glue_flags(struct session *s, unsigned flags);
unsigned session_glue_flags(const struct session *s);

#endif
