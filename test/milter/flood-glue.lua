-- flood-glue.lua - what the glue adds to the flood limits: it asks for
-- SMFIP_RCPT_REJ only when client_bad_recipients is on (so the
-- recipients the MTA refuses itself reach the filter and are counted),
-- sends a limit's 421 as an SMFIR_REPLYCODE with a TEMPFAIL (the MTA then
-- hangs up), and gives a connection's place in client_connections back
-- when the MTA closes it (xxfi_close).
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

rg.need_wiretap()

-- A connection from IP through the wiretap; returns it, its packets, and
-- the reply to the connect event.
local function tapped_connect(ip)
	local c, packets = rg.tapped()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	assert(mt.conninfo(c, "client.example.org", ip) == nil, "conninfo")
	return c, packets, mt.getreply(c)
end

rg.run(function()
	rg.start([[
# flood-glue.lua
local_domains = example.com
client_bad_recipients = 2/10m
client_connections = 1
]])

	local c, packets, r = tapped_connect("198.51.100.7")
	assert(r == SMFIR_CONTINUE, "first connection continues")
	assert(mt.test_option(c, SMFIP_RCPT_REJ), "SMFIP_RCPT_REJ requested with client_bad_recipients on")

	-- One open connection is the limit: the second gets 421 and is counted
	-- until it closes.
	local c2, packets2
	c2, packets2, r = tapped_connect("198.51.100.7")
	assert(r == SMFIR_REPLYCODE, "second concurrent connection refused")
	rg.wire_is(packets2, "421 4.7.0 Too many connections from 198.51.100.7, try again later",
	    "concurrency refusal on the wire")
	mt.disconnect(c2)

	assert(mt.helo(c, "client.example.org") == nil, "helo")
	assert(rg.mail(c, "<spam@stranger.example>") == SMFIR_CONTINUE, "mail")
	-- Recipients the MTA refused itself: {rcpt_mailer} "error", the status
	-- in {rcpt_host}.  Their answer stays the MTA's (continue), they count.
	for i = 1, 3 do
		rg.rcpt_is(c, "<nobody" .. i .. "@example.com>", SMFIR_CONTINUE,
		    {"{rcpt_mailer}", "error", "{rcpt_host}", "5.1.1"})
	end
	-- The MTA sends the RCPT macros with every recipient.
	rg.rcpt_is(c, "<alice@example.com>", SMFIR_REPLYCODE,
	    {"{rcpt_mailer}", "local", "{rcpt_host}", "example.com"})
	rg.wire_is(packets, "421 4.7.0 Too many unknown recipients from 198.51.100.7, try again later",
	    "penalty on the wire")
	mt.disconnect(c)

	-- Both connections closed: another client has its own count, and this
	-- one would have its place back but is in the penalty.
	assert(rg.log_wait("client_bad_recipients 198.51.100.7: penalty", 5), "penalty logged")
	c, packets, r = tapped_connect("198.51.100.8")
	assert(r == SMFIR_CONTINUE, "another client connects")
	mt.disconnect(c)
	mt.sleep(0.3)
	c, packets, r = tapped_connect("198.51.100.8")
	assert(r == SMFIR_CONTINUE, "and again after closing: its place came back")
	mt.disconnect(c)
	c, packets, r = tapped_connect("198.51.100.7")
	assert(r == SMFIR_REPLYCODE, "penalty: 421 at connect")
	rg.wire_is(packets, "421 4.7.0 Too many unknown recipients from 198.51.100.7, try again later",
	    "penalty at connect on the wire")
	mt.disconnect(c)
end)
