/*
 * loops.h - hop count, loop breaking, auto-reply control and the turf
 * sources (DESIGN "Hops and loops"; RFC 5321 6.3, RFC 3834).
 *
 * Where each piece runs:
 *
 *   MAIL    loops_mail_turf_sender   turf_senders: the whole message is
 *                                    turfed at eom (accepted with 250:
 *                                    no reply that could feed a loop)
 *   RCPT    loops_rcpt_turf          blackhole_recipients: this recipient
 *                                    is turfed at eom (smfi_delrcpt and a
 *                                    copy, never DISCARD at RCPT, which
 *                                    drops every recipient); recipients
 *                                    of a message already turfed whole
 *                                    skip the unknown-user refusal
 *   header  loops_header_hops        more than max_hops Received: headers:
 *                                    hops_reply; counting stops there
 *           loops_header_marker      inbound mail (from a client that may
 *                                    not relay) carrying our loop_header:
 *                                    loop_reply
 *           loops_observe_header     Subject for the fingerprint, the
 *                                    RFC 3834 auto-reply headers
 *   body    loops_observe_body       the first LOOP_FP_BODY bytes for the
 *                                    fingerprint; then loops_repeats runs
 *                                    at once, so the rest of the body can
 *                                    be skipped when no copy is needed
 *   eom     loops_repeats            if the body was shorter
 *           loops_autoreply          auto-replies from inside to outside
 *           loops_eom_changes        ndr_copy_to, the loop_header marker
 *
 * Header decisions are answered at end of headers (decide.c), so the glue
 * can ask the MTA not to wait for a reply to every header.
 *
 * The fingerprint is FNV-1a (64 bits) over the first Subject (up to
 * LOOP_FP_SUBJECT bytes) and the first LOOP_FP_BODY body bytes: the part
 * of a bounce or an out-of-office reply that stays the same from one turn
 * of a loop to the next.  The repeat counter is the store's GCRA rate
 * keyed by a hash of (sender, recipient, fingerprint): more than loop_max
 * copies in loop_window are a loop.
 */
#ifndef RG_LOOPS_H
#define RG_LOOPS_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "config.h"

#define LOOP_FP_SUBJECT 998 /* RFC 5322 2.1.1 line limit */
#define LOOP_FP_BODY    1024

enum check_res loops_mail_turf_sender(struct session *s, struct verdict *v);
enum check_res loops_rcpt_turf(struct session *s, struct verdict *v);
enum check_res loops_header_hops(struct session *s, struct verdict *v);
enum check_res loops_header_marker(struct session *s, struct verdict *v);

/*
 * Candidates: these mark the recipients they would turf with RCPT_CAND
 * and return CHECK_DONE with an ACT_TURF verdict naming the check;
 * decide.c applies the safety nets and turns candidates into RCPT_TURF
 * (or clears them when monitored).  A store that cannot be reached gives
 * a 451 4.3.0 when store_failure = tempfail, else no opinion.
 */
enum check_res loops_repeats(struct session *s, struct verdict *v);
enum check_res loops_autoreply(struct session *s, struct verdict *v);

/* Note what a header says (Subject, auto-reply headers). */
void loops_observe_header(struct session *s, const char *name, const char *value);

/* Add body bytes to the fingerprint; true once it is complete. */
bool loops_observe_body(struct session *s, const unsigned char *chunk, size_t len);

/* Is the repeat check still to run for this message? */
bool loops_repeat_pending(const struct session *s);

/* Could the auto-reply check still turf a recipient of this message? */
bool loops_autoreply_possible(const struct session *s);

/* ndr_copy_to and the loop_header marker; false when out of memory. */
bool loops_eom_changes(struct session *s);

/* NEED_HEADERS / NEED_BODY (snapshot.h) that CFG asks of the MTA. */
unsigned loops_needs(const struct config *cfg);

#endif
