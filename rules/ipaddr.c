/*
 * ipaddr.c - IPv4/IPv6 address values (see ipaddr.h).  Pure, thread-safe.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "ipaddr.h"
#include "strbuf.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Store an IPv6 address, folding IPv4-mapped ones into IPv4. */
static void
ipaddr_set6(struct ipaddr *out, const uint8_t a[16])
{
	memset(out, 0, sizeof(*out));
	if (memcmp(a, v4mapped_prefix, 12) == 0) {
		out->family = AF_INET;
		memcpy(out->a, a + 12, 4);
	} else {
		out->family = AF_INET6;
		memcpy(out->a, a, 16);
	}
}

bool
ipaddr_parse(const char *s, struct ipaddr *out)
{
	char buf[IPADDR_TEXT + 8];
	size_t len;
	uint8_t a[16];

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return false;
	len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
		if (len == 0 || len >= sizeof(buf))
			return false;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET6, buf, a) != 1)
			return false;
		ipaddr_set6(out, a);
		return true;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1) {
		out->family = AF_INET;
		memcpy(out->a, a, 4);
		return true;
	}
	if (inet_pton(AF_INET6, buf, a) == 1) {
		ipaddr_set6(out, a);
		return true;
	}
	return false;
}

bool
ipaddr_from_sockaddr(const struct sockaddr *sa, struct ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		out->family = AF_INET;
		memcpy(out->a, &sin->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		ipaddr_set6(out, sin6->sin6_addr.s6_addr);
		return true;
	}
	return false;
}

void
ipaddr_format(const struct ipaddr *ip, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	if (ip->family == AF_INET || ip->family == AF_INET6)
		inet_ntop(ip->family, ip->a, buf, (socklen_t)size);
}

bool
ipaddr_equal(const struct ipaddr *x, const struct ipaddr *y)
{
	if (x->family != y->family)
		return false;
	return memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16) == 0;
}

bool
ipaddr_reverse_name(const struct ipaddr *ip, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	struct strbuf sb;
	int i;

	strbuf_init(&sb, buf, size);
	if (ip->family == AF_INET) {
		strbuf_addf(&sb, "%u.%u.%u.%u.in-addr.arpa", ip->a[3], ip->a[2], ip->a[1],
		    ip->a[0]);
	} else if (ip->family == AF_INET6) {
		for (i = 15; i >= 0; i--) {
			strbuf_addc(&sb, hex[ip->a[i] & 15]);
			strbuf_addc(&sb, '.');
			strbuf_addc(&sb, hex[ip->a[i] >> 4]);
			strbuf_addc(&sb, '.');
		}
		strbuf_add(&sb, "ip6.arpa");
	} else {
		return false;
	}
	return !sb.truncated;
}

void
ipaddr_mask(struct ipaddr *ip, unsigned bits)
{
	unsigned total = ip->family == AF_INET ? 32 : 128, i;

	if (bits >= total)
		return;
	for (i = bits / 8; i < total / 8; i++) {
		unsigned keep = (i == bits / 8) ? bits % 8 : 0;

		ip->a[i] &= (uint8_t)(0xff00u >> keep);
	}
}
