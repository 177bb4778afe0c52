/*
 * ipaddr.h - IPv4 and IPv6 addresses as plain values.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is always stored as IPv4, so
 * one client has one representation whichever way the MTA reports it.
 * Pure functions, thread-safe.
 */
#ifndef RG_IPADDR_H
#define RG_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ipaddr {
	int family;	/* AF_INET or AF_INET6; 0 = unset */
	uint8_t a[16];	/* network order; IPv4 uses a[0..3] */
};

/* Longest text ipaddr_format writes, with the NUL. */
#define IPADDR_TEXT 46

/*
 * Parse S as an address.  Accepts dotted IPv4, IPv6 text, Sendmail's
 * "IPv6:" prefix and one pair of enclosing brackets ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]").  Returns false for anything else.
 */
bool ipaddr_parse(const char *s, struct ipaddr *out);

/* Convert a socket address (AF_INET/AF_INET6); false for other families or NULL. */
bool ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out);

/* Canonical text (RFC 5952 for IPv6) into BUF of SIZE >= IPADDR_TEXT. */
void ipaddr_format(const struct ipaddr *ip, char *buf, size_t size);

bool ipaddr_equal(const struct ipaddr *x, const struct ipaddr *y);

/*
 * The reverse-lookup name: "d.c.b.a.in-addr.arpa" or the 32 nibbles of
 * "ip6.arpa", without a trailing dot.  Returns false if SIZE is too small
 * (73 bytes always suffice).
 */
bool ipaddr_reverse_name(const struct ipaddr *ip, char *buf, size_t size);

/* Keep only the first BITS bits (IPv6 grouping for per-client limits). */
void ipaddr_mask(struct ipaddr *ip, unsigned bits);

#endif
