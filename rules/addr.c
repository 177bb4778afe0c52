/*
 * addr.c - SMTP path parser and classifier (see addr.h).
 *
 * Grammar, after RFC 5321 4.1.2, read leniently where MTAs are lenient
 * (missing brackets, trailing dot) and strictly where leniency hides a
 * destination:
 *
 *   path      = "<" [ route ":" ] mailbox ">" | "<>"
 *   route     = "@" domain *( "," "@" domain )
 *   mailbox   = local-part [ "@" domain ]      (no domain: <postmaster>)
 *   local-part = dot-string | quoted-string
 *   domain    = name | "[" address-literal "]"
 *
 * The parser works on a bounded copy and never allocates.
 */
#include "autoconf.h"

#include <string.h>

#include "addr.h"
#include "strbuf.h"

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Skip a source route "@a,@b:" at *P (within END); false on malformed routes. */
static bool
skip_route(const char **p, const char *end)
{
	const char *s = *p;

	for (;;) {
		const char *start;

		if (s >= end || *s != '@')
			return false;
		start = ++s;
		while (s < end && *s != ',' && *s != ':' && *s != '"' && *s != ' ' && *s != '@')
			s++;
		if (s == start || s >= end)
			return false;
		if (*s == ':') {
			*p = s + 1;
			return true;
		}
		if (*s != ',')
			return false;
		s++;
	}
}

/* Quoted local part at P (on the opening quote); copies the dequoted text. */
static enum addr_status
parse_quoted(const char **p, const char *end, struct addr *out)
{
	const char *s = *p + 1;
	size_t n = 0;

	out->flags |= ADDR_QUOTED;
	while (s < end && *s != '"') {
		char c = *s;

		if (c == '\\') {
			if (++s >= end)
				return ADDR_BAD_SYNTAX;
			c = *s;
		}
		if (c == '@' || c == '%' || c == '!')
			out->flags |= ADDR_QUOTED_ROUTE;
		if (n >= CAP_LOCALPART_LEN)
			return ADDR_TOO_LONG;
		out->local[n++] = c;
		s++;
	}
	if (s >= end)
		return ADDR_BAD_SYNTAX;
	out->local[n] = '\0';
	*p = s + 1;
	return ADDR_OK;
}

/* Unquoted local part: everything up to the last "@" of [P, END). */
static enum addr_status
parse_dotstring(const char **p, const char *end, struct addr *out)
{
	const char *s = *p, *at = NULL, *q;
	size_t n;

	for (q = s; q < end; q++) {
		if (*q == '"' || *q == ' ' || *q == '<' || *q == '>')
			return ADDR_BAD_SYNTAX;
		if (*q == '@')
			at = q;
	}
	if (at == NULL)
		at = end;
	n = (size_t)(at - s);
	if (n == 0)
		return ADDR_BAD_SYNTAX;
	if (n > CAP_LOCALPART_LEN)
		return ADDR_TOO_LONG;
	memcpy(out->local, s, n);
	out->local[n] = '\0';
	if (memchr(s, '@', n) != NULL)
		out->flags |= ADDR_NESTED_AT;
	if (memchr(s, '%', n) != NULL)
		out->flags |= ADDR_PERCENT;
	if (memchr(s, '!', n) != NULL)
		out->flags |= ADDR_BANG;
	*p = at;
	return ADDR_OK;
}

/* Domain or address literal in [S, END). */
static enum addr_status
parse_domain(const char *s, const char *end, struct addr *out)
{
	size_t n = (size_t)(end - s), i;

	if (n == 0)
		return ADDR_BAD_SYNTAX;
	if (n > CAP_DOMAIN_LEN)
		return ADDR_TOO_LONG;
	if (s[0] == '[') {
		if (end[-1] != ']' || n < 3)
			return ADDR_BAD_SYNTAX;
		memcpy(out->domain, s + 1, n - 2);
		out->domain[n - 2] = '\0';
		if (!ipaddr_parse(out->domain, &out->literal))
			return ADDR_BAD_SYNTAX;
		out->flags |= ADDR_LITERAL;
		return ADDR_OK;
	}
	if (s[n - 1] == '.')
		n--;
	if (n == 0 || s[0] == '.')
		return ADDR_BAD_SYNTAX;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && s[i + 1] == '.')
			return ADDR_BAD_SYNTAX;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			c == '_' || c >= 0x80 || (c >= 'A' && c <= 'Z')))
			return ADDR_BAD_SYNTAX;
		out->domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out->domain[n] = '\0';
	return ADDR_OK;
}

/* Trim blanks and strip the brackets; sets *S and *END to the inside. */
static enum addr_status
strip_path(const char *raw, const char **s, const char **end, unsigned *flags)
{
	const char *p = raw, *e;
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *q = p; q < e; q++)
		if (is_ctl((unsigned char)*q))
			return ADDR_BAD_CHAR;
	len = (size_t)(e - p);
	if (len > 0 && p[0] == '<') {
		if (len < 2 || e[-1] != '>')
			return ADDR_BAD_SYNTAX;
		if (len > CAP_ADDR_LEN)
			return ADDR_TOO_LONG;
		p++;
		e--;
	} else {
		if (len + 2 > CAP_ADDR_LEN)
			return ADDR_TOO_LONG;
		if (len == 0)
			return ADDR_BAD_SYNTAX;
		*flags |= ADDR_NO_BRACKETS;
	}
	*s = p;
	*end = e;
	return ADDR_OK;
}

static enum addr_status
parse_path(const char *raw, struct addr *out)
{
	const char *s, *end;
	enum addr_status st;

	if ((st = strip_path(raw, &s, &end, &out->flags)) != ADDR_OK)
		return st;
	if (s == end) {
		out->flags |= ADDR_NULL;
		return ADDR_OK;
	}
	if (*s == '@') {
		if (!skip_route(&s, end))
			return ADDR_BAD_SYNTAX;
		out->flags |= ADDR_SOURCE_ROUTE;
	}
	if (s < end && *s == '"')
		st = parse_quoted(&s, end, out);
	else
		st = parse_dotstring(&s, end, out);
	if (st != ADDR_OK)
		return st;
	if (s == end) {
		out->flags |= ADDR_NO_DOMAIN;
		return ADDR_OK;
	}
	if (*s != '@')
		return ADDR_BAD_SYNTAX;
	s++;
	/* "a"@b@c: a nested @ after a quoted local part */
	if (memchr(s, '@', (size_t)(end - s)) != NULL) {
		out->flags |= ADDR_NESTED_AT;
		s = (const char *)memrchr(s, '@', (size_t)(end - s)) + 1;
	}
	return parse_domain(s, end, out);
}

enum addr_status
addr_parse(const char *raw, struct addr *out)
{
	enum addr_status st;

	memset(out, 0, sizeof(*out));
	if (raw == NULL)
		return ADDR_BAD_SYNTAX;
	st = parse_path(raw, out);
	if (st != ADDR_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

bool
addr_hides_route(const struct addr *a)
{
	return (a->flags & ADDR_HIDES_ROUTE) != 0;
}

bool
addr_is_bare_postmaster(const struct addr *a)
{
	return (a->flags & ADDR_NO_DOMAIN) && !(a->flags & ADDR_HIDES_ROUTE) &&
	       str_ieq(a->local, "postmaster");
}

void
addr_bare(const char *path, char *out, size_t size)
{
	size_t len;

	if (size == 0)
		return;
	while (*path == ' ' || *path == '\t')
		path++;
	len = strlen(path);
	while (len > 0 && (path[len - 1] == ' ' || path[len - 1] == '\t'))
		len--;
	if (len >= 2 && path[0] == '<' && path[len - 1] == '>') {
		path++;
		len -= 2;
	}
	if (len >= size)
		len = size - 1;
	memcpy(out, path, len);
	out[len] = '\0';
}

const char *
addr_status_name(enum addr_status st)
{
	switch (st) {
	case ADDR_OK:
		return "ok";
	case ADDR_TOO_LONG:
		return "too long";
	case ADDR_BAD_CHAR:
		return "control character";
	case ADDR_BAD_SYNTAX:
		return "bad syntax";
	}
	return "?";
}

const char *
addr_route_form(const struct addr *a)
{
	if (a->flags & ADDR_SOURCE_ROUTE)
		return "source route";
	if (a->flags & ADDR_QUOTED_ROUTE)
		return "quoted local part with @, % or !";
	if (a->flags & ADDR_NESTED_AT)
		return "nested @";
	if (a->flags & ADDR_PERCENT)
		return "percent hack";
	if (a->flags & ADDR_BANG)
		return "bang path";
	return NULL;
}
