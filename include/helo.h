/*
 * helo.h - checks of the HELO/EHLO argument (DESIGN "HELO"), each chosen
 * in helo_checks and answered with its own reply:
 *
 *   syntax    a HELO/EHLO was given and is a host name or an address
 *             literal (RFC 5321 4.1.1.1): helo_syntax_reply
 *   fqdn      a name has at least two labels and a top label that is not
 *             all digits: helo_fqdn_reply
 *   ours      not one of our names (our_hostnames, the host name, the
 *             MTA's $j) or addresses (our_addresses, the address the
 *             client connected to): helo_ours_reply
 *   literal   an address literal is the client's own address:
 *             helo_literal_reply
 *   resolves  a name has an A, AAAA or MX record: helo_resolves_reply; a
 *             temporary DNS failure answers helo_temp_reply (always 4xx)
 *
 * RFC 5321 4.1.4 forbids refusing mail because the HELO name does not
 * verify; these checks refuse names that cannot be right (malformed, ours,
 * a literal that is not the client), which sites have long done (RFC 2505
 * 2.8 logs it at least).  Clients inside the trust boundary (trusted,
 * authenticated, internal interface) are not checked: submission clients
 * behind NAT give private literals and bare host names.  The check runs
 * at RCPT (delayed like every check before RCPT).
 */
#ifndef RG_HELO_H
#define RG_HELO_H

#include "check.h"

enum check_res helo_check(struct session *s, struct verdict *v);

/* Is NAME a fully qualified host name (two labels or more, top label not numeric)? */
bool helo_is_fqdn(const char *name);

#endif
