-- soft-mode.lua - soft_mode = yes: every refusal goes out as the matching
-- 4xx with SMFIS_TEMPFAIL (the glue's TEMPFAIL path), code and enhanced
-- code softened alike, exactly as on the wire.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.need_wiretap()

rg.run(function()
	rg.start([[
# soft-mode.lua
local_domains = example.com
local_recipients = alice
trusted_networks = 192.0.2.0/24
soft_mode = yes
]])

	local c, packets = rg.tapped()
	rg.open{conn = c, ip = "203.0.113.9", name = "mx.stranger.test"}
	assert(rg.mail(c, "<x@stranger.test>", {"i", "S1"}) == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	rg.wire_is(packets, "450 4.7.1 Relaying denied", "relay, soft")
	rg.log_has("S1: rcpt: tempfail 450 4.7.1 Relaying denied; by=relay", "soft refusal logged")
	-- A reply set for a TEMPFAIL is not left behind for the next answer.
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	assert(packets()[#packets()].cmd == "c", "accepted recipient: not SMFIR_CONTINUE on the wire")
	rg.rcpt_is(c, "<ghost@example.com>", SMFIR_REPLYCODE)
	rg.wire_is(packets, "450 4.1.1 Recipient address rejected: user unknown", "unknown user, soft")
	rg.rcpt_is(c, "<bad@@example.com>", SMFIR_REPLYCODE)
	rg.wire_is(packets, "450 4.7.1 Source routes and encapsulated addresses are not accepted",
	    "routed address, soft")
	rg.rcpt_is(c, "<ctl\1char@example.com>", SMFIR_REPLYCODE)
	rg.wire_is(packets, "401 4.1.3 Bad recipient address syntax", "malformed, soft")
	-- The message with its one good recipient goes on.
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom")
	mt.disconnect(c)

	-- Nothing went out as a 5xx.
	for _, p in ipairs(packets()) do
		assert(p.cmd ~= "y" or string.sub(p.data, 1, 1) == "4", "a 5xx in soft mode: " .. p.data)
	end
end)
