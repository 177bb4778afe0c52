/*
 * script.h - the what-if session script language (relayguard -t), one
 * command per line:
 *
 *   connect IP [HOSTNAME]     start a new session from client IP
 *   daemon IP                 the local address the client connected to
 *   auth USER                 the client authenticated as USER
 *   macro NAME VALUE          set an MTA macro ({rcpt_addr}, {client_ptr}, ...)
 *   helo NAME
 *   mail <ADDR> [ESMTP-ARGS]
 *   rcpt <ADDR> [ESMTP-ARGS]
 *   data
 *   header Name: value
 *   eoh                       end of headers (implied by the first body or eom)
 *   body TEXT                 one body line (CRLF is added)
 *   eom
 *   rset
 *   quit
 *   keep                      leave this session open, as a concurrent
 *                             connection, when the next connect starts
 *                             another (it ends with the script)
 *   wait DURATION             advance the what-if clock (30s, 10m, 1h, 250ms)
 *
 * Blank lines and lines starting with "#" are comments.  The parser
 * works in place on the caller's line buffer and never allocates.
 */
#ifndef RG_SCRIPT_H
#define RG_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#define SCRIPT_MAX_ARGS 16	/* ESMTP parameters kept per mail/rcpt line */

enum script_cmd {
	SC_COMMENT = 0,
	SC_CONNECT,
	SC_DAEMON,
	SC_AUTH,
	SC_MACRO,
	SC_HELO,
	SC_MAIL,
	SC_RCPT,
	SC_DATA,
	SC_HEADER,
	SC_EOH,
	SC_BODY,
	SC_EOM,
	SC_RSET,
	SC_QUIT,
	SC_KEEP,
	SC_WAIT,
};

struct script_event {
	enum script_cmd cmd;
	char *arg1;	/* IP, USER, NAME, ADDR, header name, body text */
	char *arg2;	/* HOSTNAME, macro value, header value */
	char *args[SCRIPT_MAX_ARGS + 1]; /* ESMTP parameters, NULL-terminated */
};

/*
 * Parse LINE (modified in place; a trailing newline is removed) into *EV.
 * Returns false with a description in ERR for unknown commands and
 * missing or surplus arguments.
 */
bool script_parse_line(char *line, struct script_event *ev, char *err, size_t errsize);

#endif
