/*
 * clients.h - connection control at connect (DESIGN "Floods"): who may
 * connect at all.
 *
 *   deny_clients   clients in these networks are refused with
 *                  deny_clients_reply (554 5.7.1; a 421 reply makes the MTA
 *                  hang up at once instead of refusing every command)
 *   allow_clients  when set, only these networks may connect (the "mail
 *                  comes only from my ISP's smart host" setup); others get
 *                  allow_clients_reply
 *
 * These answer at connect rather than at RCPT: their point is the
 * connection, not a message.  Connections without an IP address (local
 * submission) are not affected.  A check_fn (check.h).
 */
#ifndef RG_CLIENTS_H
#define RG_CLIENTS_H

#include "check.h"

enum check_res clients_connect(struct session *s, struct verdict *v);

#endif
