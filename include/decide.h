/*
 * decide.h - the decision core's entry points, one per SMTP stage.
 *
 * Each function runs the ordered checks of its stage (a table in decide.c)
 * on the session and fills *V with the first answer that is not
 * "continue".  The safety nets are applied here, in one place, in this
 * order: soft_mode turns 5xx into 4xx; a check or rule in monitor mode, or
 * mode = monitor, logs "would <action>" and continues.  Every decision
 * that is not a plain "continue" is logged as one line (log.h).
 *
 * Arguments are the plain values libmilter hands the glue (NUL-terminated
 * strings, valid for the call only: the core copies what it keeps).  None
 * of these functions blocks for longer than the configured bounds.
 */
#ifndef RG_DECIDE_H
#define RG_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"
#include "session.h"
#include "verdict.h"

enum stage {
	STAGE_CONNECT = 0,
	STAGE_HELO,
	STAGE_MAIL,
	STAGE_RCPT,
	STAGE_DATA,
	STAGE_HEADER,
	STAGE_EOH,
	STAGE_BODY,
	STAGE_EOM,
	STAGE_COUNT
};

const char *stage_name(enum stage st);

/*
 * CLIENT NULL: the MTA did not say (stdin, unknown family); the client is
 * then nobody special.  CLIENT_NAME is the MTA's view of the client's host
 * name ("[192.0.2.1]" or "unknown" when it has none).
 */
void decide_connect(struct session *s, const struct ipaddr *client, const char *client_name,
    struct verdict *v);
void decide_helo(struct session *s, const char *helo, struct verdict *v);

/* ADDR is the path as typed; ARGS the ESMTP parameters, NULL-terminated (may be NULL). */
void decide_mail(struct session *s, const char *addr, char *const *args, struct verdict *v);
void decide_rcpt(struct session *s, const char *addr, char *const *args, struct verdict *v);
void decide_data(struct session *s, struct verdict *v);

/*
 * A header never gets an answer of its own: a decision made while reading
 * the headers is filled into *V (for the log and the what-if mode) and
 * returned again by decide_eoh, which is where the glue answers it.  So
 * the glue may ask the MTA not to wait for a reply to each header
 * (SMFIP_NR_HDR).  After such a decision further headers are ignored.
 */
void decide_header(struct session *s, const char *name, const char *value, struct verdict *v);
void decide_eoh(struct session *s, struct verdict *v);
void decide_body(struct session *s, const unsigned char *chunk, size_t len, struct verdict *v);

/*
 * Does the core still want body chunks of the current message?  When it
 * does not, the glue may tell the MTA to skip the rest (SMFIS_SKIP); the
 * end of message comes all the same.
 */
bool decide_body_wanted(const struct session *s);

/*
 * End of message.  After it returns, session_changes() lists the changes
 * to apply; they stay valid until the next decide_* call on S, which
 * starts a new message.  Turfs decided earlier are carried out here: a
 * copy goes to turf_dir first, and only then is the message (ACT_TURF) or
 * the recipient (a RCPT_DEL change) dropped; a copy that cannot be written
 * gives 451 4.3.0, one over turf_max_size ACT_QUARANTINE.
 */
void decide_eom(struct session *s, struct verdict *v);

/* The MTA aborted the message (RSET, lost connection): forget it. */
void decide_abort(struct session *s);

/*
 * A further decision within the same event (a second body line that
 * matches a rule in one body chunk): apply the safety nets to V and log
 * it as its own line.  The event's verdict is still the one returned.
 */
void decide_also(struct session *s, struct verdict *v);

/*
 * The connection ended (the glue's xxfi_close; the what-if at quit and at
 * the next connect): give back what it held in shared counters, such as
 * its place in the concurrency count.  S may be NULL, and connect may
 * never have happened.  Call it before session_free.
 */
void decide_close(struct session *s);

#endif
