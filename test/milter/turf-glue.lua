-- turf-glue.lua - what the glue adds for hops, loops and turf: no reply
-- asked for headers on a unix socket (a hop-count refusal comes at end of
-- headers), SKIP
-- once the body is no longer wanted, and at end of message DISCARD for a
-- message turfed whole, smfi_delrcpt for one turfed recipient,
-- smfi_addrcpt for the NDR copy, smfi_quarantine for a message over
-- turf_max_size, and 451 when the copy cannot be written.  The filter
-- runs as nobody, so a turf directory nobody may not write is really
-- read-only to it.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

local OUTSIDE = "203.0.113.9"

-- Copies in turf/new.
local function copies()
	local p = io.popen("ls turf/new 2>/dev/null | wc -l")
	local n = tonumber(p:read("*l"))
	p:close()
	return n
end

-- A message from SENDER to RCPTS with HEADERS ({name, value} pairs) and
-- BODY; returns the connection and the eom reply.
local function message(sender, rcpts, headers, body)
	local c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, sender) == SMFIR_CONTINUE, "mail " .. sender)
	for _, r in ipairs(rcpts) do
		rg.rcpt_is(c, r, SMFIR_CONTINUE)
	end
	for _, h in ipairs(headers) do
		assert(mt.header(c, h[1], h[2]) == nil, "header")
	end
	assert(mt.eoh(c) == nil, "eoh")
	rg.expect(c, SMFIR_CONTINUE, "eoh")
	assert(mt.bodystring(c, body) == nil, "body")
	mt.getreply(c)
	return c, rg.eom(c)
end

rg.run(function()
	os.execute("mkdir turf && chown nobody turf")
	-- A unix socket, as a filter on the MTA's host has: only there does
	-- the glue ask for no reply to headers (over TCP, Nagle and delayed
	-- ACKs would make that slower, not faster).
	os.execute("mkdir -p sock && chmod 1777 sock")
	rg.sock = "unix:" .. os.getenv("RG_WORK") .. "/sock/rg"
	rg.start([[
local_domains = example.com
turf_dir = ]] .. rg.work .. [[/turf
turf_max_size = 2k
turf_senders = loopy@example.net
blackhole_recipients = typo@example.com
ndr_copy_to = postmaster@example.com
max_hops = 5
]])

	-- ---- negotiation: headers without replies, a body that can be skipped
	local c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	assert(not mt.test_option(c, SMFIP_NOHDRS), "headers asked for (hop count)")
	assert(not mt.test_option(c, SMFIP_NOEOH), "end of headers asked for")
	assert(not mt.test_option(c, SMFIP_NOBODY), "body asked for (fingerprint, copies)")
	assert(mt.test_option(c, SMFIP_NR_HDR), "no reply to each header")
	assert(mt.test_option(c, SMFIP_NODATA), "asks for DATA on a unix socket")
	assert(mt.test_option(c, SMFIP_SKIP), "SKIP")
	assert(not mt.test_option(c, SMFIP_NR_EOH), "a reply at end of headers")
	mt.disconnect(c)

	-- ---- the body is skipped once the fingerprint has its 1024 bytes
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<a@example.net>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	assert(mt.header(c, "Subject", "hello") == nil, "header")
	assert(mt.eoh(c) == nil, "eoh")
	rg.expect(c, SMFIR_CONTINUE, "eoh")
	assert(mt.bodystring(c, string.rep("a", 1000)) == nil, "body 1")
	rg.expect(c, SMFIR_CONTINUE, "first 1000 bytes: the fingerprint wants more")
	assert(mt.bodystring(c, string.rep("b", 1000)) == nil, "body 2")
	rg.expect(c, SMFIR_SKIP, "fingerprint complete, no copy needed")
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom")
	mt.disconnect(c)

	-- ---- too many hops: answered at end of headers
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<a@example.net>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_CONTINUE)
	for i = 1, 8 do
		assert(mt.header(c, "Received", "from h" .. i .. " by h" .. (i + 1)) == nil, "Received")
	end
	assert(mt.eoh(c) == nil, "eoh")
	rg.expect(c, SMFIR_REPLYCODE, "eoh after 8 Received: (max_hops 5)")
	rg.log_has("header: reject 554 5.4.6 Too many hops; by=hops", "hops logged")
	mt.disconnect(c)

	-- ---- turf_senders: DISCARD (250 for the client) after the copy
	local r
	c, r = message("<loopy@example.net>", {"<alice@example.com>"}, {{"Subject", "loop"}}, "x\r\n")
	assert(r == SMFIR_DISCARD, "turf_senders: DISCARD at eom")
	mt.disconnect(c)
	assert(copies() == 1, "one copy after turf_senders")
	c, r = message("<loopy@example.net>", {"<bob@example.com>"}, {{"Subject", "loop"}}, "x\r\n")
	assert(r == SMFIR_DISCARD, "turf_senders again: DISCARD")
	mt.disconnect(c)
	assert(copies() == 2, "two copies")

	-- ---- blackhole_recipients: the trapped recipient removed, the others keep it
	c, r = message("<a@example.net>", {"<typo@example.com>", "<bob@example.com>"},
	    {{"Subject", "typo"}}, "y\r\n")
	assert(r == SMFIR_CONTINUE, "blackhole beside another recipient: eom continues")
	assert(mt.eom_check(c, MT_RCPTDELETE, "<typo@example.com>"), "smfi_delrcpt of the trapped one")
	assert(not mt.eom_check(c, MT_RCPTDELETE, "<bob@example.com>"), "bob stays")
	mt.disconnect(c)
	assert(copies() == 3, "a copy for the trapped recipient")

	-- ---- ndr_copy_to: the postmaster added to a bounce
	c, r = message("<>", {"<alice@example.com>"}, {{"Subject", "Undelivered Mail"}}, "z\r\n")
	assert(r == SMFIR_CONTINUE, "bounce: eom continues")
	assert(mt.eom_check(c, MT_RCPTADD, "<postmaster@example.com>"), "smfi_addrcpt of ndr_copy_to")
	mt.disconnect(c)

	-- ---- over turf_max_size: quarantined, no copy
	c, r = message("<loopy@example.net>", {"<alice@example.com>"}, {{"Subject", "big"}},
	    string.rep("q", 3000))
	assert(r == SMFIR_CONTINUE, "over turf_max_size: eom continues")
	assert(mt.eom_check(c, MT_QUARANTINE), "smfi_quarantine")
	mt.disconnect(c)
	assert(copies() == 3, "no copy of a message over turf_max_size")

	-- ---- a turf directory the filter cannot write: 451, nothing dropped
	os.execute("chmod -R 500 turf")
	c, r = message("<loopy@example.net>", {"<alice@example.com>"}, {{"Subject", "loop"}}, "x\r\n")
	assert(r == SMFIR_REPLYCODE, "read-only turf_dir: a reply code, not DISCARD")
	rg.log_has("eom: tempfail 451 4.3.0", "451 logged")
	mt.disconnect(c)
	os.execute("chmod -R 700 turf")
end)
