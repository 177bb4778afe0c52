/*
 * decide_priv.h - what decide.c shares with the modules that carry out
 * its decisions (dispose.c): the one place a decided verdict is counted
 * and logged, and the answer to an internal error.
 */
#ifndef RG_DECIDE_PRIV_H
#define RG_DECIDE_PRIV_H

struct session;
struct verdict;

/* Count and log a decided verdict; a message that ends here frees what it kept. */
void decide_record(struct session *s, struct verdict *v);

/* An internal error (out of memory): on_error decides (DESIGN: internal errors tempfail). */
void decide_internal_error(struct session *s, struct verdict *v, const char *what);

#endif
