/*
 * test_addr.c - address parsing and classification, table-driven.
 * Each row: the path as a client could type it, the expected status, the
 * flags that must be set, the local part and domain after parsing.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "addr.h"
#include "strbuf.h"
#include "tap.h"

#define F_ROUTE ADDR_HIDES_ROUTE

static const struct row {
	const char *raw;
	enum addr_status st;
	unsigned flags;		/* exactly these flags */
	const char *local, *domain;
} rows[] = {
	/* plain forms */
	{"<user@example.com>", ADDR_OK, 0, "user", "example.com"},
	{"<User@Example.COM>", ADDR_OK, 0, "User", "example.com"},
	{"<user@example.com.>", ADDR_OK, 0, "user", "example.com"},
	{"user@example.com", ADDR_OK, ADDR_NO_BRACKETS, "user", "example.com"},
	{"  <user@example.com>  ", ADDR_OK, 0, "user", "example.com"},
	{"<first.last+tag@mail.example.com>", ADDR_OK, 0, "first.last+tag", "mail.example.com"},
	{"<>", ADDR_OK, ADDR_NULL, "", ""},
	{"<postmaster>", ADDR_OK, ADDR_NO_DOMAIN, "postmaster", ""},
	{"<POSTMASTER>", ADDR_OK, ADDR_NO_DOMAIN, "POSTMASTER", ""},
	{"<\"john smith\"@example.com>", ADDR_OK, ADDR_QUOTED, "john smith", "example.com"},
	{"<\"a\\\"b\"@example.com>", ADDR_OK, ADDR_QUOTED, "a\"b", "example.com"},
	{"<user@xn--bcher-kva.example>", ADDR_OK, 0, "user", "xn--bcher-kva.example"},
	{"<user@under_score.example>", ADDR_OK, 0, "user", "under_score.example"},
	/* every encapsulation form */
	{"<user%else.test@example.com>", ADDR_OK, ADDR_PERCENT, "user%else.test", "example.com"},
	{"<user%else.test%third.test@example.com>", ADDR_OK, ADDR_PERCENT,
	    "user%else.test%third.test", "example.com"},
	{"<else.test!user@example.com>", ADDR_OK, ADDR_BANG, "else.test!user", "example.com"},
	{"<a.test!b.test!user@example.com>", ADDR_OK, ADDR_BANG, "a.test!b.test!user", "example.com"},
	{"<\"user@else.test\"@example.com>", ADDR_OK, ADDR_QUOTED | ADDR_QUOTED_ROUTE, "user@else.test",
	    "example.com"},
	{"<\"user%else.test\"@example.com>", ADDR_OK, ADDR_QUOTED | ADDR_QUOTED_ROUTE,
	    "user%else.test", "example.com"},
	{"<\"else.test!user\"@example.com>", ADDR_OK, ADDR_QUOTED | ADDR_QUOTED_ROUTE,
	    "else.test!user", "example.com"},
	{"<@example.com:user@else.test>", ADDR_OK, ADDR_SOURCE_ROUTE, "user", "else.test"},
	{"<@a.test,@b.test:user@else.test>", ADDR_OK, ADDR_SOURCE_ROUTE, "user", "else.test"},
	{"<user@else.test@example.com>", ADDR_OK, ADDR_NESTED_AT, "user@else.test", "example.com"},
	{"<\"a\"@else.test@example.com>", ADDR_OK, ADDR_QUOTED | ADDR_NESTED_AT, "a", "example.com"},
	{"<user%else.test>", ADDR_OK, ADDR_PERCENT | ADDR_NO_DOMAIN, "user%else.test", ""},
	{"<else.test!user>", ADDR_OK, ADDR_BANG | ADDR_NO_DOMAIN, "else.test!user", ""},
	{"user%else.test@example.com", ADDR_OK, ADDR_PERCENT | ADDR_NO_BRACKETS, "user%else.test",
	    "example.com"},
	/* literals */
	{"<user@[192.0.2.1]>", ADDR_OK, ADDR_LITERAL, "user", "192.0.2.1"},
	{"<user@[IPv6:2001:db8::1]>", ADDR_OK, ADDR_LITERAL, "user", "IPv6:2001:db8::1"},
	{"<user@[999.1.1.1]>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@[example.com]>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@[192.0.2.1>", ADDR_BAD_SYNTAX, 0, "", ""},
	/* broken and hostile */
	{"<user@example.com", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<@example.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@exa mple.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<us er@example.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@example..com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@.example.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<\"unterminated@example.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<\"quoted\"junk@example.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user@exam<ple.com>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<user\r\n@example.com>", ADDR_BAD_CHAR, 0, "", ""},
	{"<user\x01@example.com>", ADDR_BAD_CHAR, 0, "", ""},
	{"<user@example.com\x7f>", ADDR_BAD_CHAR, 0, "", ""},
	{"<user@exa\tmple.com>", ADDR_BAD_CHAR, 0, "", ""},
	{"<@a.test,b.test:user@else.test>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<@a.test,@b.test user@else.test>", ADDR_BAD_SYNTAX, 0, "", ""},
	{"", ADDR_BAD_SYNTAX, 0, "", ""},
	{"   ", ADDR_BAD_SYNTAX, 0, "", ""},
	{"<", ADDR_BAD_SYNTAX, 0, "", ""},
	{">", ADDR_BAD_SYNTAX, 0, "", ""},
};

/* Build a path with LOCAL bytes of local part and DOMAIN bytes of domain. */
static char *
long_path(size_t local, size_t domain)
{
	char *p = malloc(local + domain + 4), *q = p;
	size_t i;

	*q++ = '<';
	for (i = 0; i < local; i++)
		*q++ = 'a';
	*q++ = '@';
	for (i = 0; i < domain; i++)
		*q++ = (i % 10 == 9) ? '.' : 'b';
	*q++ = '>';
	*q = '\0';
	return p;
}

static void
test_lengths(void)
{
	struct addr a;
	char *p;

	p = long_path(64, 180); /* 247 bytes: fine */
	tap_int(addr_parse(p, &a), ADDR_OK, "64-byte local part, 247-byte path");
	free(p);
	p = long_path(65, 20);
	tap_int(addr_parse(p, &a), ADDR_TOO_LONG, "65-byte local part is too long");
	free(p);
	p = long_path(60, 200); /* 263 bytes */
	tap_int(addr_parse(p, &a), ADDR_TOO_LONG, "path over 256 bytes is too long");
	free(p);
	p = long_path(10, 100000);
	tap_int(addr_parse(p, &a), ADDR_TOO_LONG, "100 kB path is refused cleanly");
	free(p);
}

static void
test_helpers(void)
{
	struct addr a;

	addr_parse("<PostMaster>", &a);
	tap_ok(addr_is_bare_postmaster(&a), "<PostMaster> is the bare postmaster");
	addr_parse("<postmaster@example.com>", &a);
	tap_ok(!addr_is_bare_postmaster(&a), "postmaster@domain is not bare");
	addr_parse("<postmaster%else.test>", &a);
	tap_ok(!addr_is_bare_postmaster(&a), "<postmaster%%else.test> is not bare postmaster");
	addr_parse("<@a.test:user@b.test>", &a);
	tap_str(addr_route_form(&a), "source route", "route form named");
	addr_parse("<user@b.test>", &a);
	tap_ok(addr_route_form(&a) == NULL && !addr_hides_route(&a), "plain address hides nothing");
	tap_int(addr_parse(NULL, &a), ADDR_BAD_SYNTAX, "NULL is bad syntax");
}

/* The row's path made printable for the TAP line. */
static const char *
shown(const char *raw)
{
	static char buf[512];
	struct strbuf sb;

	strbuf_init(&sb, buf, sizeof(buf));
	strbuf_add_printable(&sb, raw, 200);
	return buf;
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct addr a;
		enum addr_status st = addr_parse(r->raw, &a);
		bool ok = st == r->st && a.flags == r->flags && strcmp(a.local, r->local) == 0 &&
			  strcmp(a.domain, r->domain) == 0;

		tap_ok(ok, "row %zu: %s", i + 1, shown(r->raw));
		if (!ok)
			printf("#   got:  %s flags=%#x local=\"%s\" domain=\"%s\"\n"
			       "#   want: %s flags=%#x local=\"%s\" domain=\"%s\"\n",
			    addr_status_name(st), a.flags, a.local, a.domain, addr_status_name(r->st),
			    r->flags, r->local, r->domain);
		if (ok && st == ADDR_OK)
			tap_ok(addr_hides_route(&a) == ((r->flags & F_ROUTE) != 0),
			    "row %zu: hides route = %d", i + 1, (r->flags & F_ROUTE) != 0);
	}
	test_lengths();
	test_helpers();
	return tap_done();
}
