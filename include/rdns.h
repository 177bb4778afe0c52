/*
 * rdns.h - the reverse-DNS check of the client (DESIGN "Reverse DNS";
 * RFC 7372 5.7.25; RFC 8601 3 "iprev").
 *
 *   rdns = off       no lookup at all
 *   rdns = annotate  look up and record the result in Authentication-Results
 *                    (authres.h); never refuse
 *   rdns = ptr       refuse a client without a PTR record
 *   rdns = fcrdns    refuse unless a PTR name resolves back to the client
 *
 * The lookup starts at connect (rdns_connect, asynchronous) and is judged
 * at rdns_stage (rcpt by default, so the refusal is logged with its
 * recipient and postmaster stays reachable).  A temporary failure answers
 * rdns_temp_reply, always a 4xx (RFC 2505 2.9).  Clients inside the trust
 * boundary (trusted network, authenticated, internal interface) are never
 * refused; at connect and HELO authentication is not known yet, so only
 * the first and last apply there.
 */
#ifndef RG_RDNS_H
#define RG_RDNS_H

#include "check.h"
#include "iprev.h"

/* Start the lookups for the session's client (decide_connect; never blocks). */
void rdns_connect(struct session *s);

/*
 * The session's result, waiting for it until the current command's DNS
 * deadline.  False when rdns = off or there is no client address.
 */
bool rdns_result(struct session *s, struct iprev_result *out);

/* The check, in the table of every stage; it acts at rdns_stage only. */
enum check_res rdns_check(struct session *s, struct verdict *v);

#endif
