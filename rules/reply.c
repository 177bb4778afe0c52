/*
 * reply.c - reply templates (see reply.h).
 *
 * Validation follows RFC 5321 4.2 (three-digit codes; only 4xx and 5xx
 * make sense for a refusal) and RFC 3463 2 (the class digit of the
 * enhanced code equals the reply's first digit; subject and detail are
 * 0-999).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "reply.h"
#include "strbuf.h"

/* The %{name} references a reply may use. */
static const char *const known_names[] = {
	"client_addr", "client_name", "helo", "sender", "rcpt", "rcpt_domain", "queue_id",
	"decider", "sender_domain", "spf_domain", "spf_explanation", NULL,
};

bool
reply_name_known(const char *name)
{
	size_t i;

	for (i = 0; known_names[i] != NULL; i++)
		if (strcmp(known_names[i], name) == 0)
			return true;
	return false;
}

static bool
parse_code(const char *s, char klass, char code[4], char *err, size_t errsize)
{
	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
		s[2] <= '9' && (s[3] == ' ' || s[3] == '\0'))) {
		snprintf(err, errsize, "reply must start with a three-digit SMTP code");
		return false;
	}
	if (s[0] != '4' && s[0] != '5') {
		snprintf(err, errsize, "reply code %.3s is not a refusal (use 4xx or 5xx)", s);
		return false;
	}
	if (klass != 0 && s[0] != klass) {
		snprintf(err, errsize, "reply code %.3s must be %cxx here", s, klass);
		return false;
	}
	if (s[1] > '5') {
		snprintf(err, errsize, "reply code %.3s is not a valid SMTP code", s);
		return false;
	}
	memcpy(code, s, 3);
	code[3] = '\0';
	return true;
}

/* Parse "c.sss.ddd" of at most 3 digits per part; returns its length or 0. */
static size_t
xcode_len(const char *s)
{
	size_t i = 0, part, digits = 0;

	for (part = 0; part < 3; part++) {
		digits = 0;
		while (s[i] >= '0' && s[i] <= '9' && digits < 4) {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || (part == 0 && digits != 1))
			return 0;
		if (part < 2) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	return (s[i] == ' ' || s[i] == '\0') ? i : 0;
}

/* Check that every %{name} in TEXT is known and every other % is "%%". */
static bool
check_refs(const char *text, char *err, size_t errsize)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		if (p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			char name[32];
			size_t n;

			if (close == NULL || (n = (size_t)(close - (p + 2))) >= sizeof(name)) {
				snprintf(err, errsize, "unterminated %%{...} in reply text");
				return false;
			}
			memcpy(name, p + 2, n);
			name[n] = '\0';
			if (!reply_name_known(name)) {
				snprintf(err, errsize, "unknown %%{%s} in reply text", name);
				return false;
			}
			p = close;
			continue;
		}
		snprintf(err, errsize, "lone %% in reply text (write %%%% for a percent sign)");
		return false;
	}
	return true;
}

bool
reply_parse(const char *s, char klass, struct reply_tmpl *out, char *err, size_t errsize)
{
	const char *p, *text;
	size_t xl;

	memset(out, 0, sizeof(*out));
	if (!parse_code(s, klass, out->code, err, errsize))
		return false;
	p = s + 3;
	while (*p == ' ')
		p++;
	if ((xl = xcode_len(p)) == 0) {
		snprintf(err, errsize, "reply needs an enhanced status code x.y.z after %s (RFC 3463)",
		    out->code);
		return false;
	}
	if (p[0] != out->code[0]) {
		snprintf(err, errsize, "enhanced code %.*s does not match reply code %s (RFC 3463: class %c)",
		    (int)xl, p, out->code, out->code[0]);
		return false;
	}
	memcpy(out->xcode, p, xl);
	out->xcode[xl] = '\0';
	text = p + xl;
	while (*text == ' ')
		text++;
	if (*text == '\0') {
		snprintf(err, errsize, "reply text missing after %s %s", out->code, out->xcode);
		return false;
	}
	for (p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errsize, "control character in reply text");
			return false;
		}
	}
	if (!str_copy(out->text, sizeof(out->text), text)) {
		snprintf(err, errsize, "reply text longer than %d bytes", CAP_REPLY_TEXT - 1);
		return false;
	}
	return check_refs(out->text, err, errsize);
}

void
reply_expand(const struct reply_tmpl *t, reply_lookup_fn lookup, void *arg, struct reply *out)
{
	struct strbuf sb;
	const char *p;

	memcpy(out->code, t->code, sizeof(out->code));
	memcpy(out->xcode, t->xcode, sizeof(out->xcode));
	strbuf_init(&sb, out->text, sizeof(out->text));
	for (p = t->text; *p != '\0'; p++) {
		const char *close;
		char name[32];
		size_t n;

		if (p[0] == '%' && p[1] == '%') {
			strbuf_addc(&sb, '%');
			p++;
		} else if (p[0] == '%' && p[1] == '{' && (close = strchr(p + 2, '}')) != NULL &&
			   (n = (size_t)(close - (p + 2))) < sizeof(name)) {
			const char *v;

			memcpy(name, p + 2, n);
			name[n] = '\0';
			v = lookup ? lookup(name, arg) : NULL;
			strbuf_add_printable(&sb, v ? v : "unknown", CAP_LOG_FIELD);
			p = close;
		} else {
			strbuf_addc(&sb, *p);
		}
	}
}

void
reply_soften(struct reply *r)
{
	if (r->code[0] == '5')
		r->code[0] = '4';
	if (r->xcode[0] == '5')
		r->xcode[0] = '4';
}

void
reply_format(const struct reply *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s %s", r->code, r->xcode, r->text);
}
