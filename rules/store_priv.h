/*
 * store_priv.h - the back-end interface behind include/store.h.  A back
 * end embeds struct store first and fills the operations; store.c checks
 * arguments once for all of them.
 */
#ifndef RG_STORE_PRIV_H
#define RG_STORE_PRIV_H

#include "store.h"

struct store_ops {
	/* COUNT false: peek only. */
	enum store_res (*rate)(struct store *st, const char *key, unsigned long limit,
	    long window_ms, unsigned cost, long now_ms, bool count, struct store_rate *out);
	enum store_res (*gauge_add)(struct store *st, const char *key, long delta, long ttl_ms,
	    long now_ms, long *value);
	enum store_res (*note_first)(struct store *st, const char *key, const char *value,
	    long ttl_ms, long now_ms, char *out, size_t size);
	enum store_res (*note_get)(struct store *st, const char *key, long now_ms, char *out,
	    size_t size, bool *found);
	size_t (*count)(struct store *st);
	void (*destroy)(struct store *st);
};

struct store {
	const struct store_ops *ops;
};

/*
 * GCRA arithmetic shared by the back ends.  TAT_US is the stored
 * theoretical arrival time (0: none), times in microseconds.  Returns the
 * new TAT to store (unchanged when denied) and fills OUT.
 */
long store_gcra(long tat_us, unsigned long limit, long window_ms, unsigned cost, long now_ms,
    struct store_rate *out);

#endif
