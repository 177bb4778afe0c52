/*
 * strbuf.h - the one bounded string buffer type.
 *
 * A strbuf writes into storage the caller owns (usually an array on the
 * stack or inside a struct).  Appends never overflow: what does not fit is
 * dropped, the buffer stays NUL-terminated and `truncated` is set, so the
 * caller can decide whether a cut string is acceptable.  No allocation.
 * Not thread-safe; a strbuf belongs to one thread at a time.
 */
#ifndef RG_STRBUF_H
#define RG_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;	/* caller's storage, always NUL-terminated */
	size_t len;	/* bytes used, excluding the NUL */
	size_t cap;	/* size of buf including room for the NUL */
	bool truncated; /* something did not fit */
};

/* Start an empty buffer on STORAGE of SIZE bytes (SIZE >= 1). */
void strbuf_init(struct strbuf *sb, char *storage, size_t size);

/* Append LEN bytes of S (which need not be NUL-terminated). */
void strbuf_addn(struct strbuf *sb, const char *s, size_t len);

/* Append the NUL-terminated string S; NULL appends nothing. */
void strbuf_add(struct strbuf *sb, const char *s);

/* Append one byte. */
void strbuf_addc(struct strbuf *sb, char c);

/* Append printf-style output. */
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Append S made printable for logs and replies: bytes outside 0x20-0x7e
 * become "\xNN", at most MAX input bytes are taken and a cut is marked
 * with "...".  NULL appends "(null)".
 */
void strbuf_add_printable(struct strbuf *sb, const char *s, size_t max);

/*
 * Copy the NUL-terminated SRC into DST of SIZE bytes, always terminating.
 * Returns false when SRC was cut.
 */
bool str_copy(char *dst, size_t size, const char *src);

/* ASCII lowercase copy of SRC into DST of SIZE bytes; false when cut. */
bool str_lower_copy(char *dst, size_t size, const char *src);

/* Strip leading blanks and trailing blanks, CR and LF from S in place; returns the start. */
char *str_trim(char *s);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
bool str_ieq(const char *a, const char *b);

#endif
