/*
 * strbuf.c - bounded string buffer (see strbuf.h).  Appends cut, never
 * overflow; the buffer is NUL-terminated after every call.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

void
strbuf_init(struct strbuf *sb, char *storage, size_t size)
{
	sb->buf = storage;
	sb->cap = size;
	sb->len = 0;
	sb->truncated = false;
	if (size > 0)
		storage[0] = '\0';
}

void
strbuf_addn(struct strbuf *sb, const char *s, size_t len)
{
	size_t room;

	if (sb->cap == 0)
		return;
	room = sb->cap - 1 - sb->len;
	if (len > room) {
		len = room;
		sb->truncated = true;
	}
	memcpy(sb->buf + sb->len, s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
strbuf_add(struct strbuf *sb, const char *s)
{
	if (s != NULL)
		strbuf_addn(sb, s, strlen(s));
}

void
strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_addn(sb, &c, 1);
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (sb->cap == 0)
		return;
	room = sb->cap - sb->len;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		sb->len = sb->cap - 1;
		sb->truncated = true;
	} else {
		sb->len += (size_t)n;
	}
}

void
strbuf_add_printable(struct strbuf *sb, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (s == NULL) {
		strbuf_add(sb, "(null)");
		return;
	}
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max) {
			strbuf_add(sb, "...");
			return;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			strbuf_addc(sb, (char)c);
		} else {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

			strbuf_addn(sb, esc, 4);
		}
	}
}

bool
str_copy(char *dst, size_t size, const char *src)
{
	struct strbuf sb;

	strbuf_init(&sb, dst, size);
	strbuf_add(&sb, src);
	return !sb.truncated;
}

bool
str_lower_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	if (size == 0)
		return false;
	for (i = 0; src[i] != '\0' && i + 1 < size; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[i] = '\0';
	return src[i] == '\0';
}

char *
str_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

bool
str_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}
