/*
 * changes.h - the message changes a verdict asks for, applied by the glue
 * at end of message (libmilter allows them only in xxfi_eom) and printed
 * by the what-if mode.  Plain data owned by the session; freed when the
 * message ends.
 */
#ifndef RG_CHANGES_H
#define RG_CHANGES_H

#include <stddef.h>

enum hdr_op {
	HDR_ADD,	/* append NAME: VALUE at the end of the header */
	HDR_INSERT,	/* insert at INDEX (0 = top, above the MTA's Received:) */
	HDR_DELETE,	/* delete the INDEX-th (1-based) NAME header */
};

struct hdr_change {
	enum hdr_op op;
	char *name;
	char *value;	/* NULL for HDR_DELETE */
	int index;
};

enum rcpt_op { RCPT_ADD, RCPT_DEL };

struct rcpt_change {
	enum rcpt_op op;
	char *addr;	/* RCPT_DEL: exactly as the MTA passed it; RCPT_ADD: <user@domain> */
};

struct changes {
	struct hdr_change *hdrs;
	size_t nhdrs, caphdrs;
	struct rcpt_change *rcpts;
	size_t nrcpts, caprcpts;
	char *quarantine;	/* reason, or NULL */
};

#endif
