/*
 * relay.h - the anti-relay checks (DESIGN "Anti-relay"; RFC 2505 2.1-2.6).
 *
 * Relay decisions use only the recipient and the client (IP address,
 * authentication, the interface it connected to), never HELO or MAIL FROM
 * (RFC 2505 2.1).  The checks run at RCPT in this order:
 *
 *   relay_rcpt_syntax       malformed, over-long or control-character
 *                           addresses: bad_rcpt_reply (501 5.1.3)
 *   relay_rcpt_exempt       postmaster (RFC 5321 4.5.1) and
 *                           always_accept_recipients of a local domain:
 *                           accepted, no later check can refuse them
 *   relay_rcpt_destination  routed/encapsulated forms, then the domain
 *                           test and the MTA's own resolution macros
 *   relay_rcpt_local_user   local_recipients, when set: 550 5.1.1
 *
 * and relay_mail_syntax at MAIL.  All are check_fn (check.h).
 */
#ifndef RG_RELAY_H
#define RG_RELAY_H

#include "check.h"

enum check_res relay_mail_syntax(struct session *s, struct verdict *v);
enum check_res relay_rcpt_syntax(struct session *s, struct verdict *v);
enum check_res relay_rcpt_exempt(struct session *s, struct verdict *v);
enum check_res relay_rcpt_destination(struct session *s, struct verdict *v);
enum check_res relay_rcpt_local_user(struct session *s, struct verdict *v);

struct addr;

/*
 * Is the parsed recipient A a local destination (a local domain, one of
 * our address literals, or no domain), hiding no route?  For rules.
 */
bool relay_rcpt_is_local(const struct session *s, const struct addr *a);

#endif
