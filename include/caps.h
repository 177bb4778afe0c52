/*
 * caps.h - every size the remote side (or an administrator's file) controls,
 * with the result at the cap.  One place, so a reviewer can audit the bounds.
 *
 * Remote input (SMTP client, through the MTA):
 *   CAP_ADDR_LEN       a path longer than this is refused: 501 5.1.3 (RCPT),
 *                      501 5.1.7 (MAIL).  RFC 5321 4.5.3.1.3: 256 octets
 *                      including the angle brackets.
 *   CAP_LOCALPART_LEN  RFC 5321 4.5.3.1.1: 64 octets; longer is refused as
 *                      above.
 *   CAP_DOMAIN_LEN     RFC 5321 4.5.3.1.2: 255 octets; longer is refused.
 *   CAP_HELO_LEN       a longer HELO argument is kept truncated and flagged
 *                      invalid.
 *   CAP_MACRO_LEN      MTA macro values longer than this are truncated.
 *   CAP_MACROS         distinct macros kept per session; further names are
 *                      ignored (we ask for fewer than this).
 *   CAP_RCPTS          recipients tracked per message; beyond it further
 *                      recipients get 452 4.5.3 (RFC 5321 4.5.3.1.8 asks for
 *                      at least 100).
 *   CAP_REPLY_TEXT     expanded reply text; longer is truncated (libmilter's
 *                      own limit is 980 per line).
 *   CAP_LOG_FIELD      untrusted text in one log field; longer is truncated
 *                      and marked with "...".
 *   CAP_RULE_HEADER    header rules see the first CAP bytes of a header
 *                      ("Name: value" or the value); the rest is not matched.
 *   CAP_RULE_BODY_LINE body rules see a longer line as pieces of CAP bytes
 *                      (like Postfix's line_length_limit).  How much of the
 *                      body they see at all is rules_body_limit.
 *   CAP_RULE_CAPTURE   bytes of one capture ($1) put into a text; longer
 *                      captures are cut and marked with "...".
 *   CAP_MILTER_PACKET  the largest milter packet read (a header with its
 *                      value): libmilter's default of 64 KiB is below
 *                      Postfix's header_size_limit (100 KiB).  A bigger
 *                      packet ends the milter session and the MTA applies
 *                      milter_default_action (tempfail).
 *   Headers            are not kept: the Received: count stops at
 *                      max_hops + 1 (then hops_reply), Subject is read up to
 *                      LOOP_FP_SUBJECT bytes, Auto-Submitted and Precedence
 *                      up to their first token (loops.h).  Any number of
 *                      headers of any length costs constant memory, except
 *                      while a turf copy may be needed (below).
 *   Turf copies        the headers and body of a message that may be turfed
 *                      are kept up to turf_max_size (64 KiB in memory, the
 *                      rest in turf_dir/tmp); past it the copy is given up
 *                      and the message, if turfed, is quarantined instead.
 *
 * Administrator input:
 *   CAP_CONF_LINE      a longer config or list-file line is an error.
 *   CAP_CONF_INCLUDE   nesting depth of list files (they cannot nest: 1).
 *   CAP_RULES          rules in one set; more is a load error.
 */
#ifndef RG_CAPS_H
#define RG_CAPS_H

#define CAP_ADDR_LEN		256
#define CAP_LOCALPART_LEN	64
#define CAP_DOMAIN_LEN		255
#define CAP_HELO_LEN		255
#define CAP_MACRO_LEN		512
#define CAP_MACROS		32
#define CAP_RCPTS		1000
#define CAP_REPLY_TEXT		480
#define CAP_LOG_FIELD		256
#define CAP_DECIDER		96
#define CAP_DETAIL		256
#define CAP_CONF_LINE		8192
#define CAP_QUEUE_ID		64
#define CAP_RULE_HEADER		16384
#define CAP_RULE_BODY_LINE	4096
#define CAP_RULE_CAPTURE	128
#define CAP_RULES		100000
#define CAP_COUNTERS		1024	/* counter lines of one decision (what-if); more are cut */
#define CAP_MILTER_PACKET	262144

#endif
