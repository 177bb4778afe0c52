/*
 * test_domset.c - domain sets and string sets: case, trailing dot,
 * subdomains only when configured, invalid names refused.
 */
#include "autoconf.h"

#include "domset.h"
#include "strset.h"
#include "tap.h"

int
main(void)
{
	struct domset *d = domset_new();
	struct strset *s = strset_new();
	const char *err;
	static const char *const bad[] = {"", ".", "exa mple.com", "-example.com", "example-.com",
		"exa..mple.com", "example.com/x", "a@b.com",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL};
	const char *const *p;
	char many[16];
	int i;

	tap_ok(domset_add(d, "Example.COM", &err), "add Example.COM");
	tap_ok(domset_add(d, "example.net.", &err), "add example.net. (trailing dot)");
	tap_ok(domset_add(d, ".sub.example.org", &err), "add .sub.example.org (subdomains)");
	tap_ok(domset_contains(d, "example.com"), "lowercase lookup");
	tap_ok(domset_contains(d, "EXAMPLE.com."), "mixed case with trailing dot");
	tap_ok(domset_contains(d, "example.net"), "entry given with a trailing dot");
	tap_ok(!domset_contains(d, "mail.example.com"), "subdomain not local unless listed");
	tap_ok(!domset_contains(d, "example.com.evil.test"), "suffix trick");
	tap_ok(!domset_contains(d, "xexample.com"), "prefix trick");
	tap_ok(domset_contains(d, "a.sub.example.org"), ".sub.example.org matches a child");
	tap_ok(domset_contains(d, "a.b.sub.example.org"), ".sub.example.org matches a grandchild");
	tap_ok(!domset_contains(d, "sub.example.org"), ".sub.example.org does not match itself");
	tap_ok(!domset_contains(d, "example.org"), "parent of a subdomain entry");
	tap_ok(!domset_contains(d, ""), "empty name");
	tap_ok(!domset_contains(d, "."), "root");
	tap_ok(!domset_contains(NULL, "example.com"), "NULL set");
	for (p = bad; *p != NULL; p++)
		tap_ok(!domset_add(d, *p, &err), "refuses \"%s\"", *p);
	tap_int((long)domset_count(d), 3, "count");
	domset_free(d);

	for (i = 0; i < 5000; i++) {
		snprintf(many, sizeof(many), "User%d", i);
		strset_add(s, many);
	}
	tap_int((long)strset_count(s), 5000, "5000 strings");
	tap_ok(strset_contains(s, "user4999") && strset_contains(s, "USER0"), "case-insensitive");
	tap_ok(!strset_contains(s, "user5000"), "non-member");
	tap_ok(strset_containsn(s, "user12xyz", 6), "length-bounded lookup");
	strset_add(s, "user1");
	tap_int((long)strset_count(s), 5000, "duplicate not added");
	strset_free(s);
	domset_free(NULL);
	strset_free(NULL);
	return tap_done();
}
