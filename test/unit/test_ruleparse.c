/*
 * test_ruleparse.c - the rule line parser: what each line means, and the
 * exact diagnostic of each broken line.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "check.h"
#include "ruleparse.h"
#include "tap.h"

/* Parse LINE; return the diagnostic ("" when it parsed) in BUF. */
static const char *
parse(const char *line, struct rule *r, char *buf, size_t size)
{
	pcre2_compile_context *cc = ruleparse_context();
	struct diag d;

	diag_init(&d);
	memset(r, 0, sizeof(*r));
	buf[0] = '\0';
	if (!ruleparse_line(line, "/etc/t.rules", "t.rules", 7, cc, r, &d))
		snprintf(buf, size, "%s", d.n > 0 ? d.msgs[0] : "(no diagnostic)");
	diag_free(&d);
	pcre2_compile_context_free(cc);
	return buf;
}

static void
test_errors(void)
{
	static const struct {
		const char *line;
		const char *want;
	} rows[] = {
		/* good lines */
		{"rcpt /%/ REJECT 550 5.7.1 No percent hack", ""},
		{"connect addr /^192\\.0\\.2\\./ OK", ""},
		{"helo /^(mx|mail)\\.example\\.com$/i if !trusted and !authenticated REJECT Not you ($1)", ""},
		{"forged-helo: helo /x/ DEFER 451 4.7.1 later", ""},
		{"header Subject /^\\s*win/i QUARANTINE prize subject", ""},
		{"header /^X-Spam-Flag: YES/ DISCARD", ""},
		{"body !/./ WARN empty line", ""},
		{"eom if null_sender and external_rcpt DISCARD bounce to the outside", ""},
		{"eom sender /^<>$/ WARN null", ""},
		{"rcpt {rcpt_mailer} /^local$/ DUNNO", ""},
		{"connect /x/ if addr /^10\\./ RELAY", ""},
		{"rcpt /@partner\\.example$/ RELAY", ""},
		{"mail /@bank\\./ SKIP spf, sender_domain", ""},
		{"header Subject /(.*)/ PREPEND X-Subject-Seen: $1 %{client_addr} $$5", ""},
		{"rcpt /x/ 452 4.5.3 too many", ""},
		{"rcpt /x/ 554 no enhanced code", ""},
		{"rcpt /x/ REJECT", "/etc/t.rules:7: REJECT: reply text missing after 550 5.7.1"},
		/* the broken lines */
		{"rcpt /(abc/ REJECT no", "/etc/t.rules:7: bad pattern /(abc/: missing closing parenthesis at offset 4"},
		{"rcpt /x/ REJCT no", "/etc/t.rules:7: unknown action \"REJCT\" (actions: OK, DUNNO, REJECT, DEFER, "
				      "TEMPFAIL, 4NN, 5NN, DISCARD, TURF, QUARANTINE, PREPEND, WARN, RELAY, SKIP)"},
		{"rcpt /x/ REJECT 55 5.7.1 short", "/etc/t.rules:7: REJECT: reply must start with a three-digit SMTP code"},
		{"rcpt /x/ 650 6.7.1 odd", "/etc/t.rules:7: reply code 650 is not a refusal (use 4xx or 5xx)"},
		{"rcpt /x/ REJECT 250 2.0.0 fine", "/etc/t.rules:7: REJECT: reply code 250 is not a refusal (use 4xx or 5xx)"},
		{"rcpt /x/ REJECT 550 4.7.1 mixed",
		    "/etc/t.rules:7: REJECT: enhanced code 4.7.1 does not match reply code 550 (RFC 3463: class 5)"},
		{"rcpt /x/ 550 4.7.1 mixed",
		    "/etc/t.rules:7: enhanced code 4.7.1 does not match reply code 550 (RFC 3463: class 5)"},
		{"rcpt /x/ REJECT 550 5.7.1", "/etc/t.rules:7: REJECT: reply text missing after 550 5.7.1"},
		{"rcpt /x/ REJECT 450 4.7.1 later", "/etc/t.rules:7: REJECT takes a 5xx code; 450 is temporary (use DEFER)"},
		{"rcpt /x/ DEFER 550 5.7.1 now", "/etc/t.rules:7: DEFER takes a 4xx code; 550 is permanent (use REJECT)"},
		{"rcpt /x/ WARN", "/etc/t.rules:7: WARN needs a text"},
		{"rcpt /x/ QUARANTINE", "/etc/t.rules:7: QUARANTINE needs a text"},
		/* more */
		{"rcpt /x/ TURF", ""},
		{"header Subject /loop/ TURF mail loop: %{sender}", ""},
		{"rcpt /x/ TURF 100% sure", "/etc/t.rules:7: TURF: lone % in reply text (write %% for a percent sign)"},
		{"rcpt /x/ SKIP rdsn", "/etc/t.rules:7: SKIP: no check named \"rdsn\""},
		{"rcpt /x/ SKIP syntax", "/etc/t.rules:7: SKIP: syntax cannot be skipped"},
		{"rcpt /x/ SKIP relay", "/etc/t.rules:7: SKIP: relay cannot be skipped; RELAY grants relaying, by client or "
					"recipient only (RFC 2505 2.1)"},
		{"rcpt /x/ SKIP", "/etc/t.rules:7: SKIP needs check names (rdns, helo, spf, ...)"},
		{"helo /x/ RELAY", "/etc/t.rules:7: RELAY is allowed at connect and rcpt only (RFC 2505 2.1: relaying is "
				   "decided on the client and the recipient, never on HELO or MAIL FROM)"},
		{"rcpt /x/ if sender /@us\\.example$/ RELAY", "/etc/t.rules:7: RELAY may not depend on sender (RFC 2505 2.1: "
							     "relaying is decided on the client and the recipient only)"},
		{"rcpt /x/ if {mail_addr} /y/ RELAY", "/etc/t.rules:7: RELAY may not depend on {mail_addr} (RFC 2505 2.1: "
						      "relaying is decided on the client and the recipient only)"},
		{"connect /x/ if null_sender OK", "/etc/t.rules:7: null_sender is not known yet at connect (it comes with MAIL)"},
		{"mail /x/ if local_rcpt OK", "/etc/t.rules:7: local_rcpt is not known yet at mail (it comes with RCPT)"},
		{"connect /x/ if helo /y/ OK", "/etc/t.rules:7: helo is not known yet at connect (it comes with HELO)"},
		{"rcpt /(a)/ REJECT got $2", "/etc/t.rules:7: $2 in the text, but the pattern has 1 capture group"},
		{"rcpt !/(a)/ REJECT got $1", "/etc/t.rules:7: $1 in the text, but the pattern is negated and captures nothing"},
		{"eom if trusted WARN $1", "/etc/t.rules:7: $1 in the text, but the rule has no pattern to capture from"},
		{"rcpt /x/ REJECT costs $5", "/etc/t.rules:7: $5 in the text, but the pattern has 0 capture groups"},
		{"rcpt /x/ REJECT costs $$5", ""},
		{"rcpt /x/ REJECT costs $ 5", "/etc/t.rules:7: lone $ in the text (write $$ for a dollar sign, $1 for a capture)"},
		{"rcpt /x/ REJECT 100% sure", "/etc/t.rules:7: REJECT: lone % in reply text (write %% for a percent sign)"},
		{"rcpt /x/ WARN %{nosuch}", "/etc/t.rules:7: WARN: unknown %{nosuch} in reply text"},
		{"rcpt /x/q OK", "/etc/t.rules:7: unknown flag \"q\" after the pattern (flags: i, m, s, x, u)"},
		{"rcpt /x OK", "/etc/t.rules:7: pattern /x OK has no closing /"},
		{"rcpt // OK", "/etc/t.rules:7: empty pattern //: leave the pattern out to match always"},
		{"rcpt", "/etc/t.rules:7: missing action"},
		{"recipient /x/ OK", "/etc/t.rules:7: unknown stage \"recipient\" (stages: connect, helo, mail, rcpt, header, "
				     "body, eom)"},
		{"connect helo /x/ OK", "/etc/t.rules:7: connect rules have no field \"helo\" (fields: addr, name or {macro})"},
		{"body foo /x/ OK", "/etc/t.rules:7: body rules have no field \"foo\" (fields: none: body rules match each line)"},
		{"eom /x/ OK", "/etc/t.rules:7: eom rules need a field before the pattern (addr, name, helo, sender, rcpt or "
			       "{macro})"},
		{"header Subject OK", "/etc/t.rules:7: expected a /pattern/ after the field \"Subject\""},
		{"rcpt /x/ if trusted or authenticated OK", "/etc/t.rules:7: unknown action \"or\" (actions: OK, DUNNO, REJECT, "
							    "DEFER, TEMPFAIL, 4NN, 5NN, DISCARD, TURF, QUARANTINE, "
							    "PREPEND, WARN, RELAY, SKIP)"},
		{"rcpt /x/ if !sender /y/ OK", "/etc/t.rules:7: write the ! before the pattern: sender !/.../"},
		{"rcpt /x/ if relayed OK", "/etc/t.rules:7: unknown condition \"relayed\" (facts: trusted, authenticated, "
					   "internal, may_relay, null_sender, local_rcpt, external_rcpt; fields: addr, "
					   "name, helo, sender, rcpt, {macro})"},
		{"rcpt /x/ OK please", "/etc/t.rules:7: OK takes no text"},
		{"rcpt /x/ PREPEND no colon", "/etc/t.rules:7: PREPEND needs \"Header-Name: value\""},
		{"rcpt /(x)/ PREPEND X-$1: y", "/etc/t.rules:7: PREPEND: bad header name \"X-$1\""},
		{"9lives: rcpt /x/ OK", "/etc/t.rules:7: rule name \"9lives\" must start with a letter"},
		{"relay: rcpt /x/ OK", "/etc/t.rules:7: rule name \"relay\" is the name of a built-in check"},
		{"rcpt /a{99999999}/ OK", "/etc/t.rules:7: bad pattern /a{99999999}/: number too big in {} quantifier at "
					  "offset 7"},
		{"rcpt /\xff/ OK", ""},
		{"rcpt /(*UTF)x/ OK", "/etc/t.rules:7: bad pattern /(*UTF)x/: using UTF is disabled by the application at offset 6"},
		{"rcpt /(*UTF)x/u OK", ""},
		{"rcpt /a\\Cb/ OK", "/etc/t.rules:7: bad pattern /a\\Cb/: using \\C is disabled by the application at offset 3"},
		{"rcpt /\xff/u OK", "/etc/t.rules:7: bad pattern /\\xff/u: UTF-8 error: illegal byte (0xfe or 0xff) at offset 0"},
	};
	struct rule r;
	char got[700];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		tap_str(parse(rows[i].line, &r, got, sizeof(got)), rows[i].want, rows[i].line);
		ruleparse_free(&r);
	}
}

static void
test_meaning(void)
{
	struct rule r;
	char got[700];

	parse("forged-helo: helo /^(mx)\\.example\\.com$/i if !trusted and {auth_authen} !/./ "
	      "REJECT 554 Not you $1",
	    &r, got, sizeof(got));
	tap_str(got, "", "a full rule parses");
	tap_str(r.id, "forged-helo", "the name is the id");
	tap_int(r.stage, STAGE_HELO, "stage");
	tap_int(r.main.field, RF_HELO, "helo's own field");
	tap_int(r.main.ncaptures, 1, "one capture");
	tap_int(r.nconds, 2, "two conditions");
	tap_ok(r.conds[0].is_fact && r.conds[0].negate && r.conds[0].fact == RFACT_TRUSTED, "!trusted");
	tap_ok(!r.conds[1].is_fact && r.conds[1].negate && r.conds[1].field == RF_MACRO, "{auth_authen} !/./");
	tap_str(r.conds[1].name, "{auth_authen}", "long macro names keep their braces");
	tap_int(r.action, RA_REFUSE, "REJECT is a refusal");
	tap_str(r.reply.code, "554", "code");
	tap_str(r.reply.xcode, "5.7.1", "a missing enhanced code is X.7.1");
	tap_str(r.reply.text, "Not you $1", "text keeps $1 for match time");
	ruleparse_free(&r);

	parse("rcpt /x/ DEFER try later", &r, got, sizeof(got));
	tap_str(r.id, "t.rules:7", "an unnamed rule is file:line");
	tap_str(r.reply.code, "450", "DEFER defaults to 450");
	tap_str(r.reply.xcode, "4.7.1", "... and 4.7.1");
	ruleparse_free(&r);

	parse("connect {i} /x/ TEMPFAIL 421 4.7.0 Go away", &r, got, sizeof(got));
	tap_str(r.main.name, "i", "one-letter macros are bare");
	tap_str(r.reply.code, "421", "TEMPFAIL with 421");
	ruleparse_free(&r);

	parse("header subject: /x/ OK", &r, got, sizeof(got));
	tap_ok(r.main.field == RF_HEADER && strcmp(r.main.name, "subject") == 0, "header name with a colon");
	ruleparse_free(&r);

	parse("mail /x/ SKIP spf,sender_domain rules", &r, got, sizeof(got));
	tap_int((long)r.skip, (long)((1UL << CHK_SPF) | (1UL << CHK_SENDER_DOMAIN) | (1UL << CHK_RULES)),
	    "SKIP mask");
	ruleparse_free(&r);

	parse("body /a/x WARN x", &r, got, sizeof(got));
	tap_ok(r.main.extended, "x flag noted for the prefilter");
	ruleparse_free(&r);

	parse("header Subject /(.*)/ PREPEND X-Seen:   $1", &r, got, sizeof(got));
	tap_str(r.hname, "X-Seen", "PREPEND name");
	tap_str(r.text, "$1", "PREPEND value without leading blanks");
	ruleparse_free(&r);

	parse("connect OK", &r, got, sizeof(got));
	tap_ok(r.main.field == RF_NONE && r.action == RA_OK, "a rule without a pattern");
	ruleparse_free(&r);
}

int
main(void)
{
	test_errors();
	test_meaning();
	return tap_done();
}
