/*
 * glue.c - the libmilter glue, and the only file that includes
 * libmilter/mfapi.h (a test enforces it).  Each xxfi_* callback copies
 * what it needs from libmilter's arguments and macros into the session,
 * calls one decide_* function and turns the verdict into an sfsistat,
 * smfi_setreply and, at end of message, the header and recipient changes.
 *
 * Per-connection state is the session in smfi_setpriv.  libmilter runs one
 * connection's callbacks on different worker threads but never two at
 * once, so the session needs no lock (LIBRARIES 1.2).  xxfi_close may be
 * the only callback and may see NULL private data (LIBRARIES 1.4).
 */
#include "autoconf.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "caps.h"
#include "decide.h"
#include "diag.h"
#include "log.h"
#include "relayguard.h"
#include "session.h"
#include "stats.h"
#include "strbuf.h"

/* Macros asked for per stage with smfi_setsymlist (LIBRARIES 1.6). */
static const struct {
	int stage;
	const char *list;
} symlists[] = {
	{SMFIM_CONNECT, "j _ {daemon_name} {daemon_addr} {if_addr} {client_addr} {client_name} {client_ptr} {client_resolve}"},
	{SMFIM_HELO, ""},
	{SMFIM_ENVFROM, "i {auth_authen} {auth_type} {mail_addr}"},
	{SMFIM_ENVRCPT, "i {rcpt_mailer} {rcpt_host} {rcpt_addr}"},
	{SMFIM_DATA, "i"},
	{SMFIM_EOH, "i"},
	{SMFIM_EOM, "i {msg_id}"},
};

/* The same names, fetched with smfi_getsymval at each stage. */
static const char *const connect_macros[] = {"j", "_", "{daemon_name}", "{daemon_addr}", "{if_addr}",
	"{client_addr}", "{client_name}", "{client_ptr}", "{client_resolve}", NULL};
static const char *const mail_macros[] = {"i", "{auth_authen}", "{auth_type}", "{mail_addr}", NULL};
static const char *const rcpt_macros[] = {"i", "{rcpt_mailer}", "{rcpt_host}", "{rcpt_addr}", NULL};
static const char *const msg_macros[] = {"i", NULL};

#define THREAD_STACK_SIZE (1024 * 1024)

static atomic_int live_sessions;
static atomic_bool stop_requested;	/* see signal_thread */
static atomic_bool milter_done;
static struct services services;	/* shared back ends, created once in glue_run */

/*
 * The SESSION_* flags of the latest negotiation.  A session normally gets
 * its own in rg_negotiate; Sendmail may reuse a milter connection for a
 * new SMTP session (LIBRARIES 1.4) without negotiating again, and the
 * session then made takes these.
 */
static atomic_uint last_glue_flags;

/*
 * Is the milter socket a unix socket?  Only there are stages skipped or
 * left without a reply.  Over TCP the MTA's packets must alternate with
 * ours: with no reply to headers Postfix writes them back to back, and
 * for a skipped DATA or end-of-headers stage it still sends that stage's
 * macro packet alone (an empty one if asked for none); Nagle then holds
 * its next packet until the last one is acknowledged, and we, sending
 * nothing back, delay that acknowledgement: about 40 ms per message on
 * Linux, measured (test/bench/mta-bench.sh -T -s 1).
 */
static bool socket_is_unix;


/* ---- helpers ---- */

static void
fetch_macros(SMFICTX *ctx, struct session *s, const char *const *names)
{
	for (; *names != NULL; names++) {
		const char *v = smfi_getsymval(ctx, (char *)*names);

		if (v != NULL)
			session_set_macro(s, *names, v);
	}
}

/* The connection's session, created on first use (close may come first; Sendmail reuses contexts). */
static struct session *
conn_session(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);
	struct snapshot *snap;

	if (s != NULL)
		return s;
	if ((snap = snapshot_current()) == NULL)
		return NULL;
	s = session_new(snap, &services);
	snapshot_unref(snap);
	if (s == NULL)
		return NULL;
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		return NULL;
	}
	session_set_glue_flags(s, atomic_load(&last_glue_flags));
	atomic_fetch_add(&live_sessions, 1);
	stats_sessions(1);
	return s;
}

/* Out of memory before a session exists: honour on_error of the current config. */
static sfsistat
no_session(void)
{
	struct snapshot *snap = snapshot_current();
	bool accept = snap != NULL && snap->cfg->on_error == ON_ERROR_ACCEPT;

	snapshot_unref(snap);
	log_msg(LOG_ERR, "internal error: cannot create a session (out of memory)");
	return accept ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

/*
 * Escape a reply text for smfi_setreply: Sendmail treats it as a format
 * string, so every % is doubled (LIBRARIES 1.7); the core already made it
 * printable, so no CR or LF can reach the MTA.
 */
static void
escape_reply(const char *text, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (; *text != '\0'; text++) {
		if (*text == '%')
			strbuf_addc(&sb, '%');
		strbuf_addc(&sb, *text);
	}
}

/* Turn a verdict into libmilter's answer.  setreply only right before a matching return (1.7). */
static sfsistat
answer(SMFICTX *ctx, const struct verdict *v)
{
	char text[2 * CAP_REPLY_TEXT + 1];

	switch (v->action) {
	case ACT_CONTINUE:
		return SMFIS_CONTINUE;
	case ACT_ACCEPT:
		return SMFIS_ACCEPT;
	case ACT_REJECT:
	case ACT_TEMPFAIL:
		escape_reply(v->reply.text, text, sizeof(text));
		if (smfi_setreply(ctx, (char *)v->reply.code, (char *)v->reply.xcode, text) != MI_SUCCESS)
			log_msg(LOG_WARNING, "smfi_setreply refused \"%s %s\"; the MTA sends its default reply",
			    v->reply.code, v->reply.xcode);
		return v->action == ACT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	case ACT_DISCARD:
	case ACT_TURF:
		return SMFIS_DISCARD;
	case ACT_QUARANTINE:
		return SMFIS_CONTINUE;
	}
	return SMFIS_TEMPFAIL;
}

/*
 * Is HOSTNAME a name the MTA verified (forward-confirmed)?  Both MTAs pass
 * "[ip]" when the client has none; Sendmail also says how its lookup went
 * in {client_resolve} (OK, FAIL, FORGED, TEMP), and anything but OK means
 * the name is not to be believed.
 */
static bool
client_name_verified(const struct session *s, const char *hostname)
{
	const char *resolve = session_macro(s, "{client_resolve}");

	if (hostname == NULL || hostname[0] == '[' || hostname[0] == '\0')
		return false;
	return resolve == NULL || strcmp(resolve, "OK") == 0;
}

/* ---- callbacks ---- */

/* Our glue flags for a connection offered steps F1, needing NEEDS. */
static unsigned
glue_flags_for(unsigned long f1, unsigned needs)
{
	unsigned flags = SESSION_NEGOTIATED;

	if ((needs & NEED_BODY) && (f1 & SMFIP_SKIP))
		flags |= SESSION_CAN_SKIP;
	/* libmilter offers the NR flags even to an MTA without them, and fakes them (1.5). */
	if ((needs & NEED_HEADERS) && (f1 & SMFIP_NR_HDR) && socket_is_unix)
		flags |= SESSION_HDR_NOREPLY;
	/*
	 * Headers without the body: what eoh would answer, eom answers as
	 * well (the client hears nothing before the end of DATA either way),
	 * and the MTA saves a round trip per message.
	 */
	if ((needs & NEED_HEADERS) && !(needs & NEED_BODY) && (f1 & SMFIP_NOEOH) && socket_is_unix)
		flags |= SESSION_EOH_AT_EOM;
	return flags;
}

static sfsistat
rg_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
    unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
				SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
	unsigned long steps = SMFIP_NOUNKNOWN;
	struct snapshot *snap = snapshot_current();
	unsigned needs = snap ? snap->needs : NEED_HEADERS | NEED_BODY, flags;
	struct session *s;
	size_t i;

	snapshot_unref(snap);
	if (needs & NEED_TURF_COPY)
		needs |= NEED_HEADERS | NEED_BODY; /* the whole message is kept */
	/* Skip what the policy does not look at: every stage costs the MTA a round trip. */
	if (!(needs & NEED_HEADERS))
		steps |= SMFIP_NOHDRS | SMFIP_NOEOH;
	if (!(needs & NEED_BODY))
		steps |= SMFIP_NOBODY;
	/* Headers are answered at eoh (decide.h), so the MTA need not wait for each;
	 * the body can be cut short once nothing wants the rest. */
	flags = glue_flags_for(f1, needs);
	if (flags & SESSION_HDR_NOREPLY)
		steps |= SMFIP_NR_HDR;
	if (flags & SESSION_CAN_SKIP)
		steps |= SMFIP_SKIP;
	if (flags & SESSION_EOH_AT_EOM)
		steps |= SMFIP_NOEOH;
	/*
	 * DATA itself is never refused here: the policy has no DATA-stage
	 * check, and a DATA without an accepted recipient is refused by the
	 * MTA.  Skipped on a unix socket (see socket_is_unix for TCP).
	 */
	if (socket_is_unix)
		steps |= SMFIP_NODATA;
	atomic_store(&last_glue_flags, flags);
	if ((s = conn_session(ctx)) != NULL)
		session_set_glue_flags(s, flags);
	/* Recipients the MTA refuses itself count as bad recipients (1.5). */
	if (needs & NEED_REJECTED_RCPTS)
		steps |= SMFIP_RCPT_REJ;

	(void)f2;
	(void)f3;
	/* Ask only for what is offered: anything else aborts the session (1.5). */
	*pf0 = actions & f0;
	*pf1 = (*pf1 | steps) & f1;
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		for (i = 0; i < sizeof(symlists) / sizeof(symlists[0]); i++)
			if (smfi_setsymlist(ctx, symlists[i].stage, (char *)symlists[i].list) != MI_SUCCESS)
				log_msg(LOG_WARNING, "smfi_setsymlist(%d) failed", symlists[i].stage);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
rg_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s = conn_session(ctx);
	struct ipaddr ip, *client = NULL;
	struct verdict v;

	if (s == NULL)
		return no_session();
	if (atomic_load(&stop_requested)) {
		smfi_setreply(ctx, "421", "4.3.2", "Filter shutting down, try again later");
		return SMFIS_TEMPFAIL;
	}
	fetch_macros(ctx, s, connect_macros);
	/* Prefer the socket address: Sendmail's {client_addr} says "IPv6:..." (1.6). */
	if (ipaddr_from_sockaddr(hostaddr, &ip))
		client = &ip;
	else if (ipaddr_parse(session_macro(s, "{client_addr}"), &ip))
		client = &ip;
	if (!client_name_verified(s, hostname))
		hostname = "unknown";
	decide_connect(s, client, hostname, &v);
	return answer(ctx, &v);
}

static sfsistat
rg_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	decide_helo(s, helo, &v);
	return answer(ctx, &v);
}

static sfsistat
rg_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	decide_abort(s); /* a new transaction: forget any earlier message */
	fetch_macros(ctx, s, mail_macros);
	decide_mail(s, argv[0], argv + 1, &v);
	return answer(ctx, &v);
}

static sfsistat
rg_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	fetch_macros(ctx, s, rcpt_macros);
	decide_rcpt(s, argv[0], argv + 1, &v);
	/* DISCARD at RCPT would drop the whole message (1.8): never do that for one recipient. */
	if (v.action == ACT_DISCARD || v.action == ACT_TURF)
		return SMFIS_CONTINUE;
	return answer(ctx, &v);
}

static sfsistat
rg_data(SMFICTX *ctx)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	fetch_macros(ctx, s, msg_macros);
	decide_data(s, &v);
	return answer(ctx, &v);
}

static sfsistat
rg_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return (atomic_load(&last_glue_flags) & SESSION_HDR_NOREPLY) ? SMFIS_NOREPLY : no_session();
	/* A decision among the headers is answered at eoh (decide.h). */
	decide_header(s, name, value, &v);
	return (session_glue_flags(s) & SESSION_HDR_NOREPLY) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
rg_eoh(SMFICTX *ctx)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	fetch_macros(ctx, s, msg_macros);
	decide_eoh(s, &v);
	return answer(ctx, &v);
}

static sfsistat
rg_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = conn_session(ctx);
	struct verdict v;

	if (s == NULL)
		return no_session();
	decide_body(s, chunk, len, &v);
	/* Nothing wants the rest of this body: the MTA need not send it (eom still comes). */
	if (v.action == ACT_CONTINUE && !decide_body_wanted(s) &&
	    (session_glue_flags(s) & SESSION_CAN_SKIP))
		return SMFIS_SKIP;
	return answer(ctx, &v);
}

/* Apply the changes of the verdict; false if the MTA refused one. */
static bool
apply_changes(SMFICTX *ctx, const struct changes *c)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < c->nhdrs; i++) {
		const struct hdr_change *h = &c->hdrs[i];
		int r;

		if (h->op == HDR_ADD)
			r = smfi_addheader(ctx, h->name, h->value);
		else if (h->op == HDR_INSERT)
			r = smfi_insheader(ctx, h->index, h->name, h->value);
		else
			r = smfi_chgheader(ctx, h->name, h->index, NULL);
		ok = ok && r == MI_SUCCESS;
	}
	for (i = 0; i < c->nrcpts; i++) {
		int r = c->rcpts[i].op == RCPT_ADD ? smfi_addrcpt(ctx, c->rcpts[i].addr)
						   : smfi_delrcpt(ctx, c->rcpts[i].addr);

		ok = ok && r == MI_SUCCESS;
	}
	if (c->quarantine != NULL)
		ok = ok && smfi_quarantine(ctx, c->quarantine) == MI_SUCCESS;
	return ok;
}

static sfsistat
rg_eom(SMFICTX *ctx)
{
	struct session *s = conn_session(ctx);
	struct verdict v;
	sfsistat rc;

	if (s == NULL)
		return no_session();
	fetch_macros(ctx, s, msg_macros);
	if (session_glue_flags(s) & SESSION_EOH_AT_EOM) {
		decide_eoh(s, &v);
		if (v.action != ACT_CONTINUE && v.action != ACT_QUARANTINE) {
			rc = answer(ctx, &v);
			decide_abort(s);
			return rc;
		}
	}
	decide_eom(s, &v);
	if (!action_is_refusal(v.action) && !apply_changes(ctx, session_changes(s))) {
		log_msg(LOG_ERR, "the MTA refused a message change; tempfailing the message");
		decide_abort(s);
		return SMFIS_TEMPFAIL;
	}
	rc = answer(ctx, &v);
	decide_abort(s);
	return rc;
}

static sfsistat
rg_abort(SMFICTX *ctx)
{
	decide_abort(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
rg_close(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL) {
		smfi_setpriv(ctx, NULL);
		decide_close(s);
		session_free(s);
		atomic_fetch_sub(&live_sessions, 1);
		stats_sessions(-1);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc rg_desc = {
	.xxfi_name = "relayguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
		      SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.xxfi_connect = rg_connect,
	.xxfi_helo = rg_helo,
	.xxfi_envfrom = rg_envfrom,
	.xxfi_envrcpt = rg_envrcpt,
	.xxfi_header = rg_header,
	.xxfi_eoh = rg_eoh,
	.xxfi_body = rg_body,
	.xxfi_eom = rg_eom,
	.xxfi_abort = rg_abort,
	.xxfi_close = rg_close,
	.xxfi_unknown = NULL,
	.xxfi_data = rg_data,
	.xxfi_negotiate = rg_negotiate,
};

/* ---- the worker process ---- */

/* Is WORD one of the space-separated words of LIST? */
static bool
word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* Reload CONFIG_PATH; WHY says what triggered it, for the log. */
static void
reload(const char *config_path, const char *why)
{
	struct diag d;
	struct snapshot *snap, *old;
	char changed[1024];
	size_t i;

	diag_init(&d);
	snap = snapshot_load(config_path, &d);
	for (i = 0; i < d.n; i++)
		log_msg(snap ? LOG_WARNING : LOG_ERR, "%s", d.msgs[i]);
	old = snapshot_current();
	if (snap == NULL) {
		log_msg(LOG_ERR, "reload (%s) of %s failed with %u error%s; still running generation %lu",
		    why, config_path, d.errors, d.errors == 1 ? "" : "s", old ? old->generation : 0);
		stats_reload(false, 0);
	} else {
		config_diff(old ? old->cfg : NULL, snap->cfg, changed, sizeof(changed));
		if (old != NULL && (strcmp(old->cfg->store, snap->cfg->store) != 0 ||
				       old->cfg->store_timeout != snap->cfg->store_timeout ||
				       old->cfg->store_max_entries != snap->cfg->store_max_entries))
			log_msg(LOG_WARNING, "the counter store is set up at start-up: "
					     "the new store settings take effect when relayguard restarts");
		snapshot_install(snap);
		log_msg(LOG_NOTICE, "reloaded %s (%s): generation %lu replaces %lu; changed: %s",
		    config_path, why, snap->generation, old ? old->generation : 0,
		    changed[0] ? changed : "nothing");
		/* The shared resolver was built at start (services.h). */
		if (word_in(changed, "dns_resolvers") || word_in(changed, "dns_config"))
			log_msg(LOG_WARNING, "dns_resolvers and dns_config take effect at the next restart");
		stats_reload(true, snap->generation);
	}
	snapshot_unref(old);
	diag_free(&d);
}

void
worker_reload(const char *config_path)
{
	reload(config_path, "SIGHUP");
}

static void
log_stats_line(const char *line, void *arg)
{
	(void)arg;
	log_msg(LOG_INFO, "%s", line);
}

/* reload_on_change: look at the files of the running configuration every 2 s. */
static void *
watch_thread(void *arg)
{
	const char *config_path = arg;

	for (;;) {
		struct snapshot *snap;
		char which[512], why[600];
		bool changed = false;

		sleep(2);
		snap = snapshot_current();
		if (snap != NULL && snap->cfg->reload_on_change)
			changed = config_changed(snap->cfg, which, sizeof(which));
		snapshot_unref(snap);
		if (changed) {
			snprintf(why, sizeof(why), "%s changed on disk", which);
			reload(config_path, why);
		}
	}
	return NULL;
}

struct sigthread_arg {
	const char *config;
};

/*
 * Set by SIG_WORKER_STOP.  smfi_stop() then blocks until libmilter's
 * listener leaves its 5-second select (it holds the listen-socket lock
 * there); the main thread does not wait for that: it drains the open
 * sessions and exits, and a connection that slips in meanwhile is told to
 * come back later (421).
 */

/* Our own signal thread: SIGUSR2 = reload (the master's SIGHUP), SIGUSR1 = statistics. */
static void *
signal_thread(void *arg)
{
	const struct sigthread_arg *a = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIG_WORKER_STOP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIG_WORKER_STOP) {
			atomic_store(&stop_requested, true);
			smfi_stop();
		} else if (sig == SIGUSR2)
			worker_reload(a->config);
		else if (sig == SIGUSR1)
			stats_log(log_stats_line, NULL);
	}
	return NULL;
}

/*
 * TCP_NODELAY on the milter's listening TCP socket, which the connections
 * accepted from it inherit (Linux, the BSDs).  At end of message libmilter
 * writes each header change and the final reply as packets of their own;
 * with Nagle the final reply would wait for the MTA's delayed ACK of the
 * first, about 40 ms per message.  libmilter does not hand out its socket,
 * so it is found among our descriptors: the listening TCP sockets.
 */
static void
set_listener_nodelay(void)
{
	int fd, on = 1;

	for (fd = 0; fd < 1024; fd++) {
		int listening = 0, domain = 0;
		socklen_t len = sizeof(int);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
			continue;
		len = sizeof(int);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
			log_msg(LOG_WARNING, "cannot set TCP_NODELAY on the milter socket: %s",
			    strerror(errno));
	}
}

/*
 * A unix socket left by a crash is removed by smfi_opensocket; one that a
 * running daemon still listens on must not be (two daemons on one socket).
 */
static bool
socket_in_use(const char *conn)
{
	struct sockaddr_un sun;
	const char *path = NULL;
	struct stat st;
	int fd;
	bool used;

	if (strncmp(conn, "unix:", 5) == 0)
		path = conn + 5;
	else if (strncmp(conn, "local:", 6) == 0)
		path = conn + 6;
	if (path == NULL || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(sun.sun_path))
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return false;
	used = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return used;
}

/*
 * A unix socket gets socket_mode and belongs to the user we run as, with
 * socket_group as its group (the MTA's group, e.g. postfix), so the MTA
 * can connect and nobody else can.
 */
static void
set_socket_owner(const char *path, const struct config *cfg, unsigned uid, unsigned gid)
{
	if (cfg->socket_group != NULL) {
		struct group *gr = getgrnam(cfg->socket_group);

		if (gr == NULL)
			log_msg(LOG_WARNING, "socket_group %s: no such group", cfg->socket_group);
		else
			gid = gr->gr_gid;
	}
	if (geteuid() == 0 && chown(path, uid, gid) != 0)
		log_msg(LOG_WARNING, "cannot chown %s: %s", path, strerror(errno));
	if (chmod(path, (mode_t)cfg->socket_mode) != 0)
		log_msg(LOG_WARNING, "cannot chmod %s: %s", path, strerror(errno));
}

/*
 * Smaller stacks for every thread made from now on, libmilter's workers
 * included (it uses default attributes).  Its pool starts and ends
 * workers as the load moves; with the default 8 MiB stacks glibc's cache
 * of freed stacks (40 MiB) holds only a few, so most thread starts map a
 * new stack and most exits unmap one, a TLB shootdown on every CPU each
 * time: in a profile under load that was a third of the daemon's CPU.
 * 1 MiB is ten times what the deepest call path here needs (libspf2's
 * macro expansion and the rule evaluator keep their big buffers on the
 * heap).
 */
static void
set_thread_stacks(void)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) != 0)
		return;
	if (pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE) != 0 ||
	    pthread_setattr_default_np(&attr) != 0)
		log_msg(LOG_WARNING, "cannot set the default thread stack size; using the system's");
	pthread_attr_destroy(&attr);
}

/* Run libmilter's main loop; returns when told to stop. */
static void *
milter_thread(void *arg)
{
	(void)arg;
	if (smfi_main() != MI_SUCCESS)
		log_msg(LOG_ERR, "libmilter stopped with an error");
	atomic_store(&milter_done, true);
	return NULL;
}

/*
 * Reload runs after privileges were dropped: a policy file only root can
 * read would make every reload fail.  Say so at start-up, not at 3 a.m.
 */
static void
warn_unreadable(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nwatched; i++)
		if (access(cfg->watched[i].path, R_OK) != 0)
			log_msg(LOG_WARNING, "%s is not readable by the user relayguard runs as: "
					     "reloads will fail until it is", cfg->watched[i].path);
}

static void
worker_fail(const char *what, int code)
{
	log_msg(LOG_ERR, "%s", what);
	exit(code);
}

void
glue_run(const struct options *o, int ready_fd)
{
	static struct sigthread_arg sa;
	struct snapshot *snap;
	struct diag d;
	const char *conn, *user;
	unsigned uid = 0, gid = 0;
	sigset_t set;
	pthread_t tid;
	int i;

	diag_init(&d);
	if ((snap = snapshot_load(o->config, &d)) == NULL) {
		for (size_t k = 0; k < d.n; k++)
			log_msg(LOG_ERR, "%s", d.msgs[k]);
		exit(EXIT_CONFIG);
	}
	diag_free(&d);
	snapshot_install(snap);
	conn = o->socket ? o->socket : snap->cfg->socket;
	user = o->user ? o->user : snap->cfg->user;
	if (conn == NULL)
		worker_fail("no socket: give -p SOCKET or socket = in the configuration", EXIT_CONFIG);
	if (user != NULL && !daemon_lookup_user(user, &uid, &gid))
		exit(EXIT_CONFIG);
	if (geteuid() == 0 && user == NULL)
		worker_fail("refusing to run as root: set user = in the configuration or -u USER "
			    "(-u root to insist)", EXIT_CONFIG);
	if (socket_in_use(conn))
		worker_fail("socket is in use by another process; is relayguard already running?",
		    EXIT_OSERR);

	/* Signals: block them before any thread exists, so only sigwait threads see them (1.3). */
	sigemptyset(&set);
	for (i = 0; i < 5; i++)
		sigaddset(&set, (int[]){SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2}[i]);
	sigaddset(&set, SIG_WORKER_STOP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	set_thread_stacks();

	/*
	 * The shared back ends start threads (libunbound, the DNS dispatcher):
	 * after the fork that made this worker and after the signal mask, so
	 * they inherit it.
	 */
	diag_init(&d);
	if (!services_init(&services, snap->cfg, &d)) {
		for (size_t k = 0; k < d.n; k++)
			log_msg(LOG_ERR, "%s", d.msgs[k]);
		exit(EXIT_CONFIG);
	}
	diag_free(&d);

	umask(007); /* unix socket: owner and group only */
	if (smfi_setconn((char *)conn) != MI_SUCCESS || smfi_register(rg_desc) != MI_SUCCESS)
		worker_fail("cannot register the filter with libmilter", EXIT_OSERR);
	/* A header over libmilter's 64 KiB default would end the session (LIBRARIES 1.10). */
	(void)smfi_setmaxdatasize(CAP_MILTER_PACKET); /* returns the old limit */
	if (smfi_opensocket(true) != MI_SUCCESS)
		worker_fail("cannot open the milter socket (bad address, in use, or no permission)",
		    EXIT_OSERR);
	socket_is_unix = strncmp(conn, "unix:", 5) == 0 || strncmp(conn, "local:", 6) == 0;
	if (!socket_is_unix)
		set_listener_nodelay(); /* before metrics_start: only the milter listens yet */
	else
		set_socket_owner(strchr(conn, ':') + 1, snap->cfg, user != NULL ? uid : (unsigned)geteuid(),
		    user != NULL ? gid : (unsigned)getegid());
	if (snap->cfg->metrics_listen != NULL && !metrics_start(snap->cfg->metrics_listen))
		worker_fail("cannot start the metrics endpoint", EXIT_OSERR);
	if (user != NULL && !daemon_drop_privileges(user, uid, gid))
		exit(EXIT_OSERR);
	if (geteuid() == 0)
		log_msg(LOG_WARNING, "running as root, as told");

	sa.config = o->config;
	if (pthread_create(&tid, NULL, signal_thread, &sa) != 0)
		worker_fail("cannot start the signal thread", EXIT_OSERR);
	pthread_detach(tid);
	if (pthread_create(&tid, NULL, watch_thread, (void *)o->config) != 0)
		worker_fail("cannot start the file watcher", EXIT_OSERR);
	pthread_detach(tid);
	stats_reload(true, snap->generation);
	warn_unreadable(snap->cfg);
	log_msg(LOG_NOTICE, "relayguard %s ready on %s, generation %lu", PACKAGE_VERSION, conn,
	    snap->generation);
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) != 1)
			log_msg(LOG_WARNING, "cannot tell the master we are ready");
		close(ready_fd);
	}
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0)
		worker_fail("cannot start libmilter", EXIT_OSERR);
	/*
	 * libmilter's signal thread takes SIGHUP as "stop".  Only the master
	 * should get SIGHUP, but "killall -HUP relayguard" reaches this process
	 * too: ignore it here.  A process-directed signal that the main thread
	 * does not block and ignores is discarded by the kernel before any
	 * sigwait can see it, so this thread (which does not run libmilter)
	 * keeps SIGHUP unblocked and ignored; SIGTERM stays blocked and reaches
	 * libmilter's sigwait.
	 */
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load(&milter_done) && !atomic_load(&stop_requested))
		usleep(50000);
	/* smfi_main returns without waiting for running sessions (1.3): give them a moment. */
	for (i = 0; i < 100 && atomic_load(&live_sessions) > 0; i++)
		usleep(100000);
	log_msg(LOG_NOTICE, "stopped");
	exit(0);
}
