/*
 * clients.c - deny_clients and allow_clients (see clients.h).
 */
#include "autoconf.h"

#include "clients.h"
#include "session_priv.h"

enum check_res
clients_connect(struct session *s, struct verdict *v)
{
	const struct config *cfg = s->cfg;

	if (!s->have_client)
		return CHECK_NEXT;
	if (cidrset_contains(cfg->deny_clients, &s->client)) {
		session_refuse(s, v, &cfg->deny_clients_reply, "clients", "%s is in deny_clients",
		    s->client_addr);
		return CHECK_DONE;
	}
	if (cfg->allow_clients != NULL && !cidrset_contains(cfg->allow_clients, &s->client)) {
		session_refuse(s, v, &cfg->allow_clients_reply, "clients", "%s is not in allow_clients",
		    s->client_addr);
		return CHECK_DONE;
	}
	return CHECK_NEXT;
}
