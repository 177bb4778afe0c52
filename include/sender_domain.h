/*
 * sender_domain.h - the MAIL FROM domain must be able to receive replies:
 * an MX record, or else an A or AAAA record (RFC 5321 5.1 implicit MX).
 *
 *   SD_OK      MX (not null) or address found
 *   SD_NONE    NXDOMAIN, or no MX and no address: sender_domain_none_reply
 *              (550 5.1.8)
 *   SD_NULLMX  the domain publishes a null MX, "0 ." (RFC 7505 4.2):
 *              sender_domain_nullmx_reply (550 5.7.27)
 *   SD_TEMP    a lookup failed temporarily: sender_domain_temp_reply,
 *              always 4xx (451 4.1.8)
 *
 * With sender_domain_check = yes, at RCPT.  Never refused: the null
 * sender <> (bounces must get through, RFC 5321 4.5.5), senders in a
 * local domain (RFC 2505 2.6: their existence is ours to know), address
 * literals and senders without a domain.  Looked up once per message.
 */
#ifndef RG_SENDER_DOMAIN_H
#define RG_SENDER_DOMAIN_H

#include "check.h"
#include "dns.h"

enum sender_domain_class { SD_UNKNOWN = 0, SD_OK, SD_NONE, SD_NULLMX, SD_TEMP };

/*
 * Classify the answers for one domain (pure, unit-tested): MX, then A and
 * AAAA (NULL when they were not needed).  *WHY is set for SD_TEMP.
 */
enum sender_domain_class sender_domain_classify(const struct dns_answer *mx,
    const struct dns_answer *a, const struct dns_answer *aaaa, enum dns_why *why);

enum check_res sender_domain_check(struct session *s, struct verdict *v);

#endif
