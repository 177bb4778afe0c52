/*
 * domset.c - domain sets (see domset.h): two string sets, one of exact
 * names and one of parents whose subdomains match (".example.com").  A
 * lookup tries the exact name, then each parent of it.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "domset.h"
#include "strset.h"

struct domset {
	struct strset *exact;
	struct strset *parents;
};

bool
domain_is_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return name[len - 1] != '-';
}

struct domset *
domset_new(void)
{
	struct domset *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->exact = strset_new();
	set->parents = strset_new();
	if (set->exact == NULL || set->parents == NULL) {
		domset_free(set);
		return NULL;
	}
	return set;
}

void
domset_free(struct domset *set)
{
	if (set == NULL)
		return;
	strset_free(set->exact);
	strset_free(set->parents);
	free(set);
}

bool
domset_add(struct domset *set, const char *name, const char **err)
{
	char buf[CAP_DOMAIN_LEN + 2];
	bool parent = name[0] == '.';
	size_t len;

	if (parent)
		name++;
	len = strlen(name);
	if (!domain_is_valid(name) || len >= sizeof(buf)) {
		*err = "not a valid domain name";
		return false;
	}
	memcpy(buf, name, len + 1);
	if (buf[len - 1] == '.')
		buf[len - 1] = '\0';
	if (!strset_add(parent ? set->parents : set->exact, buf)) {
		*err = "out of memory";
		return false;
	}
	return true;
}

bool
domset_contains(const struct domset *set, const char *domain)
{
	size_t len;
	const char *p;

	if (set == NULL)
		return false;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	if (strset_containsn(set->exact, domain, len))
		return true;
	if (strset_count(set->parents) == 0)
		return false;
	for (p = domain; p < domain + len; p++) {
		if (*p == '.' && p + 1 < domain + len &&
		    strset_containsn(set->parents, p + 1, (size_t)(domain + len - (p + 1))))
			return true;
	}
	return false;
}

size_t
domset_count(const struct domset *set)
{
	return set ? strset_count(set->exact) + strset_count(set->parents) : 0;
}
