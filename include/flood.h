/*
 * flood.h - flood and DoS limits (DESIGN "Floods"), counted in the
 * counter store (store.h) so that hosts sharing a Redis share the counts.
 *
 * Per client, counted per network (limit_ipv4_prefix, limit_ipv6_prefix;
 * IPv6 /64 by default, since one host usually holds a whole /64):
 *   at connect  client_connections (concurrent; 421, the MTA hangs up),
 *               client_connection_rate (421)
 *   at MAIL     client_message_rate (450), SIZE= over max_message_size (552)
 *   at RCPT     max_recipients per message (452, that recipient only),
 *               client_recipient_rate (450)
 *   at eom      header and body bytes over max_message_size (552)
 *   any RCPT    answered 5xx, by us or by the MTA (SMFIP_RCPT_REJ), counts
 *               against client_bad_recipients; past it the client gets 421
 *               at every command and connection for the penalty time.
 * Per authenticated user ({auth_authen}): user_message_rate at MAIL and
 * user_recipient_rate at RCPT (450).
 *
 * Rates are GCRA token buckets (store.h): a sliding window without the
 * double burst of fixed buckets.  Each limit has its own reply and its own
 * exemption list (default: the trusted networks; user limits: user names).
 * Refused attempts are not counted.  When the store cannot be reached,
 * store_failure decides: accept (the limit is skipped) or tempfail
 * (store_failure_reply).  Every counter a decision used is recorded with
 * session_counter, so the what-if mode can show it.
 *
 * All functions are check_fn (check.h) or hooks decide.c calls at fixed
 * points; none logs (decide.c logs the decision).
 */
#ifndef RG_FLOOD_H
#define RG_FLOOD_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

/* connect: penalty, concurrency, connection rate. */
enum check_res flood_connect(struct session *s, struct verdict *v);

/* MAIL: penalty, SIZE=, client and user message rates. */
enum check_res flood_mail(struct session *s, struct verdict *v);

/* RCPT, before the anti-relay checks: penalty, max_recipients. */
enum check_res flood_rcpt_first(struct session *s, struct verdict *v);

/* RCPT, after every other check: client and user recipient rates. */
enum check_res flood_rcpt_last(struct session *s, struct verdict *v);

/* eom: the counted size. */
enum check_res flood_eom(struct session *s, struct verdict *v);

/*
 * After the RCPT checks decided V (before soft_mode and monitor mode): a
 * 5xx counts as a bad recipient; the one past the limit turns V into the
 * client_bad_recipients reply (421) and starts the penalty.
 */
void flood_rcpt_refused(struct session *s, struct verdict *v);

/*
 * A recipient the MTA refused itself ({rcpt_mailer} "error", status in
 * {rcpt_host}): counted as bad when the status is 5.x.x.  The MTA's own
 * answer stands, so V stays "continue"; a penalty applies from the next
 * command on.
 */
void flood_rcpt_mta_refused(struct session *s);

/* Must the body be counted to the end (max_message_size applies to this client)? */
bool flood_body_wanted(const struct session *s);

/* The connection ended: take it off the concurrency gauge (if it was counted). */
void flood_close(struct session *s);

#endif
