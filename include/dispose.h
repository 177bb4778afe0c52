/*
 * dispose.h - carrying out turfs and discards (DESIGN "Turf", "Nothing is
 * lost").  A turf decided before end of message only marks the message or
 * recipient (decide.c); the copy is kept as the message streams, and the
 * turf is carried out at end of message.  Session-scoped, one thread at a
 * time, like the session.
 */
#ifndef RG_DISPOSE_H
#define RG_DISPOSE_H

#include <stdbool.h>
#include <stddef.h>

struct session;
struct verdict;

/* Start keeping the message at its first byte, if a turf copy may be needed. */
void dispose_copy_start(struct session *s);

/* Stop keeping it as soon as no copy can be needed (memory, and the body can be skipped). */
void dispose_copy_update(struct session *s);

/* Keep LEN more bytes; a copy over turf_max_size or failing is given up, and why remembered. */
void dispose_copy_add(struct session *s, const void *data, size_t len);

/*
 * Carry out the turfs decided for this message.  True when that decided
 * the whole message (V recorded: turf, discard, quarantine, or 451 4.3.0
 * when the copy could not be written); false when the message goes on,
 * perhaps without some recipients (their removal is among the message
 * changes, the turf is logged, and V says continue).
 */
bool dispose_execute(struct session *s, struct verdict *v);

#endif
