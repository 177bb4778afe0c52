-- flood-size.lua - max_message_size through the glue: with it on, the
-- filter asks the MTA for headers and body (it counts their bytes) and
-- refuses an over-long message at end of data with 552 5.3.4; a SIZE=
-- declaration over the limit is refused at MAIL.  Without the limit the
-- same filter would skip both stages (negotiate.lua).
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.need_wiretap()

rg.run(function()
	rg.start([[
# flood-size.lua
local_domains = example.com
max_message_size = 1k
]])
	local c = rg.open{ip = "203.0.113.9"}
	assert(not mt.test_option(c, SMFIP_NOHDRS), "headers asked for")
	assert(not mt.test_option(c, SMFIP_NOBODY), "body asked for")

	assert(rg.mail(c, "<big@stranger.test>", nil) == SMFIR_CONTINUE, "mail without SIZE")
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	assert(mt.header(c, "Subject", "small") == nil, "header")
	assert(mt.eoh(c) == nil, "eoh")
	assert(mt.bodystring(c, string.rep("x", 700) .. "\r\n") == nil, "body 1")
	assert(mt.getreply(c) == SMFIR_CONTINUE, "body chunk 1 continues")
	assert(mt.bodystring(c, string.rep("y", 700) .. "\r\n") == nil, "body 2")
	assert(mt.getreply(c) == SMFIR_CONTINUE, "body chunk 2 continues")
	assert(rg.eom(c) == SMFIR_REPLYCODE, "over-long message refused at end of data")
	assert(mt.eom_check(c, MT_SMTPREPLY, "552", "5.3.4",
	    "Message size exceeds fixed maximum message size"), "552 5.3.4 at eom")
	rg.log_has("eom: reject 552 5.3.4 Message size exceeds fixed maximum message size; " ..
	    "by=limits detail=max_message_size: 1422 bytes of header and body, over 1024", "size logged")

	-- the next message starts from zero
	assert(rg.mail(c, "<small@stranger.test>", nil) == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	assert(mt.bodystring(c, "hello\r\n") == nil, "small body")
	assert(rg.eom(c) == SMFIR_CONTINUE, "a small message passes")

	mt.disconnect(c)

	-- SIZE= over the limit: 552 5.3.4 at MAIL, before any data (RFC 1870)
	local tap, packets = rg.tapped()
	rg.open{conn = tap, ip = "203.0.113.9"}
	assert(mt.mailfrom(tap, "<big@stranger.test>", "SIZE=5000") == nil, "mailfrom SIZE=5000")
	assert(mt.getreply(tap) == SMFIR_REPLYCODE, "SIZE=5000 refused at MAIL")
	rg.wire_is(packets, "552 5.3.4 Message size exceeds fixed maximum message size", "SIZE refusal")
	assert(mt.mailfrom(tap, "<small@stranger.test>", "SIZE=500") == nil, "mailfrom SIZE=500")
	assert(mt.getreply(tap) == SMFIR_CONTINUE, "SIZE=500 fits")
	mt.disconnect(tap)
end)
