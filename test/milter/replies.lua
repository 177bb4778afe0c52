-- replies.lua - what the glue sends back for each refusal: the reply
-- command, and the exact SMTP reply text as it goes over the wire.
--
-- miltertest keeps only the command byte of a reply before end of
-- message, so this script talks to the filter through the wiretap proxy
-- (rg.tapped) and reads the SMFIR_REPLYCODE packets themselves.
--
-- Observed on the wire (libmilter 8.17.1.9): a refusal is one
-- SMFIR_REPLYCODE packet ('y') holding "CODE X.Y.Z TEXT" and a NUL, sent
-- instead of SMFIR_REJECT / SMFIR_TEMPFAIL; libmilter passes the text
-- unchanged.  Sendmail then uses that text as a format string, so every
-- "%" the client should see must travel as "%%": a configured "100%%"
-- (the config's own escape, expanded by the core to "100%") arrives as
-- "100%%", and a "%" the client put in its own address or HELO arrives
-- doubled too.  (Postfix turns "%%" back into "%".)
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.need_wiretap()

rg.run(function()
	rg.start([[
# replies.lua
local_domains = example.com
local_recipients = alice, bob
trusted_networks = 192.0.2.0/24
route_reply = 553 5.7.1 Routed address <%{rcpt}> refused (100%% sure)
unknown_user_reply = 550 5.1.1 <%{rcpt}>: no such user; you are %{client_name} [%{client_addr}], helo %{helo}
]])

	local c, packets = rg.tapped()
	rg.open{conn = c, ip = "203.0.113.9", name = "mx.stranger.test", helo = "evil%s%n.test"}

	-- A malformed sender: 501 5.1.7, and the message goes no further.
	assert(rg.mail(c, "<bad sender@stranger.test>") == SMFIR_REPLYCODE, "bad sender")
	rg.wire_is(packets, "501 5.1.7 Bad sender address syntax", "bad sender")

	assert(rg.mail(c, "<x@stranger.test>", {"i", "Q1"}) == SMFIR_CONTINUE, "mail")
	-- Relaying refused: the default reply, exactly.
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	rg.wire_is(packets, "550 5.7.1 Relaying denied", "relay refused")
	rg.log_has("Q1: rcpt: reject 550 5.7.1 Relaying denied; by=relay detail=domain not local " ..
	    "client=mx.stranger.test[203.0.113.9] helo=<evil%s%n.test> from=<x@stranger.test> " ..
	    "to=<victim@else.test>", "relay refusal logged")
	-- An accepted recipient after a refusal: a plain CONTINUE, not the
	-- refusal's reply again (libmilter keeps a reply it did not send).
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	assert(packets()[#packets()].cmd == "c", "accepted recipient: not SMFIR_CONTINUE on the wire")
	-- A configured "%%" is one "%" in the reply, doubled for Sendmail; the
	-- "%" of the client's own address is doubled too.
	rg.rcpt_is(c, "<victim%else.test@example.com>", SMFIR_REPLYCODE)
	rg.wire_is(packets,
	    "553 5.7.1 Routed address <victim%%else.test@example.com> refused (100%% sure)",
	    "percent in the reply")
	-- Unknown local user; the client's HELO holds "%s%n", which must not
	-- reach Sendmail's formatter undoubled.
	rg.rcpt_is(c, "<mallory@example.com>", SMFIR_REPLYCODE)
	rg.wire_is(packets,
	    "550 5.1.1 <mallory@example.com>: no such user; you are mx.stranger.test [203.0.113.9], " ..
	    "helo evil%%s%%n.test", "unknown user")
	-- Malformed recipients: 501 5.1.3, never a crash.
	for _, bad in ipairs({"<ctl\1char@example.com>", "<alice@example.com", "<alice@exa..mple.com>",
	    "<" .. string.rep("a", 250) .. "@example.com>"}) do
		rg.rcpt_is(c, bad, SMFIR_REPLYCODE)
		rg.wire_is(packets, "501 5.1.3 Bad recipient address syntax", "malformed " .. bad)
	end
	-- DATA is negotiated away (negotiate.lua): the message goes on to its end.
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom")

	-- DATA when every recipient was refused: 554 5.5.1 (the MTA normally
	-- stops it first; miltertest lets the filter see it; over a unix
	-- socket DATA is not asked for at all).  (A MAIL macro packet without
	-- "i", as Postfix sends: the queue id of the first message must not
	-- stick to this one.)
	assert(rg.mail(c, "<x@stranger.test>", {"{mail_addr}", "x@stranger.test"}) == SMFIR_CONTINUE,
	    "mail 2")
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	rg.rcpt_is(c, "<ghost@example.com>", SMFIR_REPLYCODE)
	rg.log_has("NOQUEUE: rcpt: reject 550 5.1.1 <ghost@example.com>", "refusal logged without a queue id")
	assert(mt.data(c) == nil, "data 2")
	rg.expect(c, SMFIR_REPLYCODE, "data without recipients")
	rg.wire_is(packets, "554 5.5.1 No valid recipients", "data without recipients")
	rg.log_has("NOQUEUE: data: reject 554 5.5.1 No valid recipients; by=data", "data refusal logged")

	-- The connection is still good: a new message is judged afresh.
	assert(rg.mail(c, "<y@stranger.test>") == SMFIR_CONTINUE, "mail 3")
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom 3")
	mt.disconnect(c)

	-- Only refusals carry a reply: count them on the wire.
	local n = 0
	for _, p in ipairs(packets()) do
		if p.cmd == "y" then
			n = n + 1
		end
	end
	assert(n == 11, "expected 11 SMFIR_REPLYCODE packets, saw " .. n)
end)
