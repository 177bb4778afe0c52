-- sendmail-macros.lua - the glue given macros shaped the way Sendmail 8.17
-- sends them (observed by test/e2e/sendmail.sh and relayguard(8),
-- "SENDMAIL"), for what a loopback Sendmail cannot show:
--  * {client_resolve}: a name Sendmail did not verify (FORGED, TEMP, FAIL)
--    is logged as "unknown", like Postfix's "[ip]";
--  * {if_addr}, the address of the connection, wins over {daemon_addr},
--    which is the listen address, 0.0.0.0 by default;
--  * IPv6 clients written "IPv6:..." uncompressed in {client_addr};
--  * the recipient macros of a smart-host setup: relay mailer, the smart
--    host in {rcpt_host}, the real destination in {rcpt_addr}.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.run(function()
	rg.start([[
# sendmail-macros.lua
local_domains = example.com
trusted_networks = 192.0.2.0/24
internal_interfaces = 198.51.100.25
]])

	-- ---- the client's name ----------------------------------------------
	for _, case in ipairs{
		{resolve = "OK", name = "mx.good.test", ip = "203.0.113.1", logged = "mx.good.test"},
		{resolve = "FORGED", name = "mx.forged.test", ip = "203.0.113.2", logged = "unknown"},
		{resolve = "TEMP", name = "mx.temp.test", ip = "203.0.113.3", logged = "unknown"},
		{resolve = "FAIL", name = "[203.0.113.4]", ip = "203.0.113.4", logged = "unknown"},
	} do
		local c = rg.open{ip = case.ip, name = case.name,
		    macros = {"{client_addr}", case.ip, "{client_resolve}", case.resolve}}
		assert(rg.mail(c, "<x@stranger.test>", {"i", "R" .. case.resolve}) == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
		rg.log_has("R" .. case.resolve .. ": rcpt: reject 550 5.7.1 Relaying denied; by=relay " ..
		    "detail=domain not local client=" .. case.logged .. "[" .. case.ip .. "] ",
		    "{client_resolve} " .. case.resolve)
		mt.disconnect(c)
	end

	-- ---- the interface the client reached ---------------------------------
	-- Sendmail listening on all addresses: {daemon_addr} 0.0.0.0, the
	-- interface in {if_addr}.
	local c = rg.open{ip = "203.0.113.20", macros = {"{daemon_addr}", "0.0.0.0",
	    "{if_addr}", "198.51.100.25", "{client_addr}", "203.0.113.20"}}
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<friend@else.test>", SMFIR_CONTINUE)
	mt.disconnect(c)
	-- The same without {if_addr} (a loopback connection): nothing known.
	c = rg.open{ip = "203.0.113.20", macros = {"{daemon_addr}", "0.0.0.0",
	    "{client_addr}", "203.0.113.20"}}
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<friend@else.test>", SMFIR_REPLYCODE)
	rg.rcpt_is(c, "<alice@[0.0.0.0]>", SMFIR_REPLYCODE)
	mt.disconnect(c)
	-- A daemon bound to the internal address: {daemon_addr} says it.
	c = rg.open{ip = "203.0.113.20", macros = {"{daemon_addr}", "198.51.100.25",
	    "{client_addr}", "203.0.113.20"}}
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<friend@else.test>", SMFIR_CONTINUE)
	mt.disconnect(c)

	-- ---- an IPv6 client ----------------------------------------------------
	c = rg.open{ip = "2001:db8::5", name = "[IPv6:2001:db8:0:0:0:0:0:5]",
	    macros = {"{client_addr}", "IPv6:2001:db8:0:0:0:0:0:5", "{client_resolve}", "FAIL"}}
	assert(rg.mail(c, "<x@stranger.test>", {"i", "V6"}) == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	rg.log_has("V6: rcpt: reject 550 5.7.1 Relaying denied; by=relay detail=domain not local " ..
	    "client=unknown[2001:db8::5] ", "IPv6 client")
	mt.disconnect(c)

	-- ---- recipients routed through a smart host -----------------------------
	c = rg.open{ip = "203.0.113.30", macros = {"{client_addr}", "203.0.113.30"}}
	assert(rg.mail(c, "<x@stranger.test>", {"i", "SH"}) == SMFIR_CONTINUE, "mail")
	-- A local user: the local mailer and the bare (lower-cased) user.
	rg.rcpt_is(c, "<Alice@example.com>", SMFIR_CONTINUE,
	    {"i", "SH", "{rcpt_mailer}", "local", "{rcpt_host}", "", "{rcpt_addr}", "alice"})
	-- A local domain that Sendmail (a virtusertable entry) sends elsewhere:
	-- the smart host is only the next hop; {rcpt_addr} is where it goes.
	rg.rcpt_is(c, "<info@example.com>", SMFIR_REPLYCODE,
	    {"i", "SH", "{rcpt_mailer}", "relay", "{rcpt_host}", "[smarthost.example]",
	    "{rcpt_addr}", "someone@else.test"})
	rg.log_has("SH: rcpt: reject 550 5.7.1 Relaying denied; by=relay detail=MTA routes it to else.test ",
	    "virtusertable forward")
	-- The smart host in {rcpt_host} alone changes nothing.
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE,
	    {"i", "SH", "{rcpt_mailer}", "relay", "{rcpt_host}", "[smarthost.example]",
	    "{rcpt_addr}", "bob@example.com"})
	mt.disconnect(c)
end)
