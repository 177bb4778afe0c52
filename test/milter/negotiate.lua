-- negotiate.lua - option negotiation, and the relay decision taken from
-- what the MTA tells the glue: the client address of the connect event
-- (IPv4, IPv6, or none with {client_addr} instead), {auth_authen} at
-- MAIL, {daemon_addr} (Postfix) or {if_addr} (Sendmail) at connect, and
-- the MTA's own resolution of a recipient ({rcpt_mailer}, {rcpt_addr}).
--
-- miltertest sends only the macros given here (it ignores the filter's
-- smfi_setsymlist), which is what lets each case give exactly one fact.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

local OUTSIDE = "203.0.113.9"	-- a client that may not relay
local FOREIGN = "<someone@else.test>"

rg.run(function()
	rg.start([[
# negotiate.lua: loopback is deliberately not trusted
local_domains = example.com
trusted_networks = 192.0.2.0/24 2001:db8:1::/48
internal_interfaces = 10.1.1.1 2001:db8:25::25
# The hop count and the loop detector (on by default) read headers and
# body; turned off, the policy is anti-relay alone.  turf-glue.lua
# negotiates with them on.
max_hops = 0
loop_max = 0
]])

	-- ---- negotiation ----------------------------------------------------
	local c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	-- The anti-relay policy looks at no header and no body: each skipped
	-- stage saves the MTA a round trip per message.
	assert(mt.test_option(c, SMFIP_NOHDRS), "asks for headers")
	assert(mt.test_option(c, SMFIP_NOEOH), "asks for end of headers")
	assert(mt.test_option(c, SMFIP_NOBODY), "asks for the body")
	assert(mt.test_option(c, SMFIP_NOUNKNOWN), "asks for unknown commands")
	-- ... but every envelope stage.  DATA too, over TCP (this socket):
	-- Postfix sends a skipped stage's macros alone, and that packet would
	-- wait for a delayed ACK (turf-glue.lua checks that a unix socket
	-- skips DATA).
	for name, opt in pairs({NOCONNECT = SMFIP_NOCONNECT, NOHELO = SMFIP_NOHELO,
	    NOMAIL = SMFIP_NOMAIL, NORCPT = SMFIP_NORCPT, NODATA = SMFIP_NODATA}) do
		assert(not mt.test_option(c, opt), "negotiated SMFIP_" .. name)
	end
	-- It rejects at these stages, so it must never promise "no reply" there:
	-- libmilter would turn each REJECT into NOREPLY and lose it.
	for name, opt in pairs({NR_CONN = SMFIP_NR_CONN, NR_HELO = SMFIP_NR_HELO,
	    NR_MAIL = SMFIP_NR_MAIL, NR_RCPT = SMFIP_NR_RCPT, NR_DATA = SMFIP_NR_DATA}) do
		assert(not mt.test_option(c, opt), "negotiated SMFIP_" .. name)
	end
	-- The actions it uses at end of message (reroute, headers, quarantine)
	-- and the macro list; never body replacement.
	for name, act in pairs({ADDRCPT = SMFIF_ADDRCPT, DELRCPT = SMFIF_DELRCPT,
	    ADDHDRS = SMFIF_ADDHDRS, CHGHDRS = SMFIF_CHGHDRS, QUARANTINE = SMFIF_QUARANTINE,
	    SETSYMLIST = SMFIF_SETSYMLIST}) do
		assert(mt.test_action(c, act), "did not request SMFIF_" .. name)
	end
	assert(not mt.test_action(c, SMFIF_CHGBODY), "requested SMFIF_CHGBODY")
	mt.disconnect(c)

	-- Headers without the body (the hop count alone): over TCP each header
	-- and the end of headers are answered (no-reply packets and a skipped
	-- stage's lone macro packet would wait for delayed ACKs).
	rg.write("relayguard.conf", rg.read("relayguard.conf"):gsub("max_hops = 0", "max_hops = 30"))
	os.execute("kill -HUP $(cat relayguard.pid)")
	assert(rg.log_wait(": reloaded ", 10), "reload (max_hops = 30)")
	c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate (hops)")
	assert(not mt.test_option(c, SMFIP_NOHDRS), "hops: headers not asked for")
	assert(not mt.test_option(c, SMFIP_NOEOH), "hops: skips end of headers over TCP")
	assert(not mt.test_option(c, SMFIP_NR_HDR), "hops: no-reply headers over TCP")
	mt.disconnect(c)
	rg.write("relayguard.conf", rg.read("relayguard.conf"):gsub("max_hops = 30", "max_hops = 0"))
	os.execute("kill -HUP $(cat relayguard.pid)")
	for _ = 1, 100 do
		if rg.log_count(": reloaded ") >= 2 then
			break
		end
		mt.sleep(0.1)
	end
	assert(rg.log_count(": reloaded ") >= 2, "reload (max_hops = 0)")

	-- An older MTA that offers fewer actions and cannot skip stages: the
	-- filter must ask only for what is offered (anything else makes libmilter
	-- end the session), and still work.
	c = rg.connect()
	assert(mt.negotiate(c, 6, SMFIP_NOHDRS, SMFIF_ADDHDRS + SMFIF_ADDRCPT) == nil, "negotiate (old MTA)")
	assert(mt.test_action(c, SMFIF_ADDRCPT), "old MTA: ADDRCPT not requested")
	assert(not mt.test_action(c, SMFIF_DELRCPT), "old MTA: requested DELRCPT, not offered")
	assert(not mt.test_action(c, SMFIF_SETSYMLIST), "old MTA: requested SETSYMLIST, not offered")
	assert(not mt.test_option(c, SMFIP_NOBODY), "old MTA: requested NOBODY, not offered")
	assert(mt.test_option(c, SMFIP_NOHDRS), "old MTA: did not take the offered NOHDRS")
	assert(mt.conninfo(c, "client.example.org", OUTSIDE) == nil, "old MTA: conninfo")
	rg.expect(c, SMFIR_CONTINUE, "old MTA: connect")
	assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "old MTA: mail")
	rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE)
	-- Body chunks arrive when the filter cannot skip them; they change nothing.
	assert(mt.bodystring(c, "hello\r\n") == nil, "old MTA: body")
	rg.expect(c, SMFIR_CONTINUE, "old MTA: body")
	assert(rg.eom(c) == SMFIR_CONTINUE, "old MTA: eom")
	mt.disconnect(c)

	-- ---- the client address ---------------------------------------------
	-- Baseline: an outside client is refused, a local domain accepted.
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE)
	mt.disconnect(c)

	-- The address comes from the connect event, IPv4 and IPv6.
	for _, ip in ipairs({"192.0.2.10", "2001:db8:1::5", "2001:db8:1:ffff::1"}) do
		c = rg.open{ip = ip}
		assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, FOREIGN, SMFIR_CONTINUE)
		mt.disconnect(c)
	end
	for _, ip in ipairs({"192.0.3.10", "2001:db8:2::5", "::ffff:203.0.113.9"}) do
		c = rg.open{ip = ip}
		assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
		mt.disconnect(c)
	end
	rg.log_has("client=client.example.org[2001:db8:2::5]", "IPv6 client in the log")

	-- The connect event's address wins over a {client_addr} macro ...
	c = rg.open{ip = OUTSIDE, macros = {"{client_addr}", "192.0.2.10"}}
	assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
	mt.disconnect(c)
	-- ... which is used when the event has none (family unknown), also in
	-- Sendmail's "IPv6:" form.
	for _, addr in ipairs({"192.0.2.10", "IPv6:2001:db8:1::7"}) do
		c = rg.open{ip = "unspec", macros = {"{client_addr}", addr}}
		assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, FOREIGN, SMFIR_CONTINUE)
		mt.disconnect(c)
	end
	-- No address at all: not trusted, and logged as unknown.
	c = rg.open{ip = "unspec", name = "mx.nowhere.test"}
	assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<nobody@else.test>", SMFIR_REPLYCODE)
	mt.disconnect(c)
	rg.log_has("client=mx.nowhere.test[unknown] helo=<client.example.org> from=<a@client.example.org> to=<nobody@else.test>",
	    "client without address")
	-- Postfix passes "[ip]" as the name of a client without a verified name.
	c = rg.open{ip = OUTSIDE, name = "[" .. OUTSIDE .. "]"}
	assert(rg.mail(c, "<>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<nobody@else.test>", SMFIR_REPLYCODE)
	mt.disconnect(c)
	rg.log_has("client=unknown[203.0.113.9] helo=<client.example.org> from=<> to=<nobody@else.test>",
	    "client without a name")

	-- ---- {auth_authen} at MAIL ----------------------------------------
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<alice@client.example.org>", {"{auth_type}", "PLAIN", "{auth_authen}", "alice"})
	    == SMFIR_CONTINUE, "mail (authenticated)")
	rg.rcpt_is(c, FOREIGN, SMFIR_CONTINUE)
	mt.disconnect(c)
	-- An empty {auth_authen} is no authentication.
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<alice@client.example.org>", {"{auth_type}", "PLAIN", "{auth_authen}", ""})
	    == SMFIR_CONTINUE, "mail (empty auth)")
	rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
	mt.disconnect(c)

	-- ---- the interface the client connected to ------------------------
	for _, m in ipairs({{"{daemon_addr}", "10.1.1.1"}, {"{if_addr}", "10.1.1.1"},
	    {"{daemon_addr}", "2001:db8:25::25"}, {"{daemon_addr}", "garbage", "{if_addr}", "10.1.1.1"}}) do
		c = rg.open{ip = OUTSIDE, macros = m}
		assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, FOREIGN, SMFIR_CONTINUE)
		mt.disconnect(c)
	end
	for _, m in ipairs({{"{daemon_addr}", "10.1.1.2"}, {"{if_addr}", "10.1.1.2"}, {"j", "10.1.1.1"}}) do
		c = rg.open{ip = OUTSIDE, macros = m}
		assert(rg.mail(c, "<a@client.example.org>") == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, FOREIGN, SMFIR_REPLYCODE)
		mt.disconnect(c)
	end

	-- ---- the MTA's own resolution of a recipient ----------------------
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<a@client.example.org>", {"i", "4ABCDEF"}) == SMFIR_CONTINUE, "mail")
	-- A local-looking address the MTA would send elsewhere (an alias, or its
	-- own percent hack) is a relay attempt.
	rg.rcpt_is(c, "<list@example.com>", SMFIR_REPLYCODE,
	    {"{rcpt_mailer}", "esmtp", "{rcpt_host}", "mx.else.test", "{rcpt_addr}", "list@else.test"})
	rg.log_has("4ABCDEF: rcpt: reject 550 5.7.1 Relaying denied; by=relay detail=MTA routes it to else.test",
	    "MTA routing logged with the queue id")
	-- Delivered here: the local mailer, a bare user, or an address of ours.
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE,
	    {"{rcpt_mailer}", "local", "{rcpt_host}", "", "{rcpt_addr}", "bob"})
	rg.rcpt_is(c, "<carol@example.com>", SMFIR_CONTINUE,
	    {"{rcpt_mailer}", "esmtp", "{rcpt_host}", "mx.example.com", "{rcpt_addr}", "carol@EXAMPLE.com."})
	-- The MTA refuses it itself: not the filter's business.
	rg.rcpt_is(c, "<dave@example.com>", SMFIR_CONTINUE,
	    {"{rcpt_mailer}", "error", "{rcpt_host}", "5.1.1", "{rcpt_addr}", "dave@else.test"})
	-- Each recipient is judged on its own macros.  (MTAs send a fresh RCPT
	-- macro packet per recipient; libmilter itself would hand out the last
	-- packet's values again if one did not.)
	rg.rcpt_is(c, "<erin@example.com>", SMFIR_CONTINUE,
	    {"{rcpt_mailer}", "local", "{rcpt_addr}", "erin"})
	mt.disconnect(c)
end)
