/*
 * authres.h - the Authentication-Results header (RFC 8601) and the
 * Received-SPF header (RFC 7208 9.1) relayguard adds at end of message,
 * and the removal of forged Authentication-Results.
 *
 * Trust boundary (RFC 8601 5): messages from trusted networks and internal
 * interfaces come from inside our ADMD and are left alone (an edge host
 * already annotated them).  For every other message, each
 * Authentication-Results field whose authserv-id is ours is deleted, all
 * of them, from the highest index down (the MTA renumbers the fields of a
 * name after each deletion); then Received-SPF and Authentication-Results
 * (methods iprev and spf) are inserted at the top, above the MTA's own
 * Received: field: both are trace fields, which are prepended (RFC 5322
 * 3.6.7; RFC 7208 9.1 says so for Received-SPF).  More than
 * CAP_AUTHRES_FORGED forged fields in one message: every
 * Authentication-Results field of that message is deleted.
 *
 * The header callbacks are needed for this: a snapshot with rdns or spf
 * on asks for them (snapshot.h NEED_HEADERS).
 */
#ifndef RG_AUTHRES_H
#define RG_AUTHRES_H

#include <stdbool.h>

struct session;

/*
 * Does the Authentication-Results field VALUE claim AUTHSERV_ID: is its
 * first item (after comments and white space, as a token or a
 * quoted-string) equal to it, ignoring case (RFC 8601 2.2, 2.5)?
 */
bool authres_claims(const char *value, const char *authserv_id);

/* Does annotation apply to the session's current message? */
bool authres_applies(const struct session *s);

/* Note one header field of the current message (decide_header). */
void authres_header(struct session *s, const char *name, const char *value);

/*
 * At end of message: record the deletions and the two new fields in the
 * session's changes.  Waits for DNS until the command's deadline.  False
 * when out of memory.
 */
bool authres_eom(struct session *s);

#endif
