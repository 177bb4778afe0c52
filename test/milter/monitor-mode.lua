-- monitor-mode.lua - mode = monitor: every refusal is logged as "would
-- reject" and the filter answers CONTINUE; no reply text is ever sent.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.need_wiretap()

rg.run(function()
	rg.start([[
# monitor-mode.lua
local_domains = example.com
local_recipients = alice
trusted_networks = 192.0.2.0/24
mode = monitor
]])

	local c, packets = rg.tapped()
	rg.open{conn = c, ip = "203.0.113.9", name = "mx.stranger.test"}
	assert(rg.mail(c, "<bad sender@stranger.test>", {"i", "M1"}) == SMFIR_CONTINUE, "bad sender")
	rg.log_has("M1: mail: would reject 501 5.1.7 Bad sender address syntax; mode=monitor by=syntax",
	    "bad sender logged")
	assert(rg.mail(c, "<x@stranger.test>", {"i", "M2"}) == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_CONTINUE)
	rg.log_has("M2: rcpt: would reject 550 5.7.1 Relaying denied; mode=monitor by=relay " ..
	    "detail=domain not local client=mx.stranger.test[203.0.113.9]", "relay logged")
	rg.rcpt_is(c, "<ghost@example.com>", SMFIR_CONTINUE)
	rg.log_has("M2: rcpt: would reject 550 5.1.1 Recipient address rejected: user unknown; " ..
	    "mode=monitor by=local_recipients", "unknown user logged")
	rg.rcpt_is(c, "<victim%else.test@example.com>", SMFIR_CONTINUE)
	rg.rcpt_is(c, "<ctl\1char@example.com>", SMFIR_CONTINUE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom")
	mt.disconnect(c)

	assert(rg.log_count("mode=monitor") == 5, "expected 5 monitored decisions, logged " ..
	    rg.log_count("mode=monitor"))
	for _, p in ipairs(packets()) do
		assert(p.cmd ~= "y", "monitor mode sent a reply: " .. p.data)
		assert(p.cmd ~= "r" and p.cmd ~= "t", "monitor mode refused: " .. p.cmd)
	end
end)
