-- lifecycle.lua - per-connection and per-message state in the glue:
-- close before connect, abort in the middle of a message, several
-- messages on one connection (each judged on its own), RSET-like aborts
-- between messages, the reroute changes at end of message, connections
-- interleaved and many connections in a row.  At the end the worker must
-- report no live session (SIGUSR1), and run-lua fails the test on any
-- sanitizer report in the log (leaks are checked when the filter exits).
--
-- Observed with libmilter 8.17.1.9: xxfi_close runs, with no private
-- data, for every connection that ends before the connect event (QUIT or
-- a plain close, before or after negotiation); xxfi_abort runs only for an
-- SMFIC_ABORT inside a transaction the filter has not ended (not after
-- negotiation, HELO, end of message, or a MAIL or DATA it refused).  So
-- the glue also forgets the previous message at each MAIL, which is why
-- the aborts below are checked by what the next message sees.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

-- The worker's count of open sessions, asked for with SIGUSR1.
local function live_sessions()
	local before = rg.log_count("stats: sessions=")
	assert(os.execute("kill -USR1 $(cat relayguard.pid)"), "kill -USR1")
	for _ = 1, 100 do
		if rg.log_count("stats: sessions=") > before then
			local n
			for v in string.gmatch(rg.read("relayguard.log"), "stats: sessions=(%d+) ") do
				n = tonumber(v)
			end
			return n
		end
		mt.sleep(0.1)
	end
	error("no statistics line after SIGUSR1")
end

-- Closing is asynchronous: wait until every session is gone.
local function expect_no_sessions(what)
	local n
	for _ = 1, 20 do
		n = live_sessions()
		if n == 0 then
			return
		end
		mt.sleep(0.25)
	end
	error(string.format("%s: %d live sessions left", what, n))
end

local OUTSIDE = "203.0.113.9"

rg.run(function()
	rg.start([[
# lifecycle.lua
local_domains = example.com old.example
trusted_networks = 192.0.2.0/24
reroute = old.example:example.com
]])

	-- ---- close before connect --------------------------------------
	-- Gone before negotiation, with and without QUIT, and right after it:
	-- xxfi_close (if libmilter calls it) sees no private data.
	local c = rg.connect()
	mt.disconnect(c)
	c = rg.connect()
	mt.disconnect(c, false)
	c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	mt.disconnect(c)
	c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	mt.disconnect(c, false)
	-- An abort before anything else (no session yet).
	c = rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	assert(mt.abort(c) == nil, "abort before connect")
	mt.disconnect(c)
	-- Connect, then gone without a word.
	c = rg.open{ip = OUTSIDE}
	mt.disconnect(c, false)
	expect_no_sessions("close before connect")

	-- ---- abort in the middle of a message ---------------------------
	c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<x@stranger.test>", {"i", "A1"}) == SMFIR_CONTINUE, "mail A1")
	rg.rcpt_is(c, "<alice@old.example>", SMFIR_CONTINUE)
	assert(mt.abort(c) == nil, "abort A1")
	-- The next message knows nothing of alice: no reroute for her at EOM.
	assert(rg.mail(c, "<x@stranger.test>", {"{mail_addr}", "x@stranger.test"}) == SMFIR_CONTINUE,
	    "mail after abort")
	rg.rcpt_is(c, "<bob@example.com>", SMFIR_CONTINUE)
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom after abort")
	assert(not mt.eom_check(c, MT_RCPTDELETE, "<alice@old.example>"),
	    "the aborted message's recipient was rerouted")
	assert(not mt.eom_check(c, MT_RCPTADD, "<alice@example.com>"),
	    "the aborted message's recipient was added")
	-- Neither was its queue id kept.
	rg.log_has("NOQUEUE: rcpt: reject 550 5.7.1 Relaying denied; by=relay detail=domain not local " ..
	    "client=client.example.org[203.0.113.9] helo=<client.example.org> from=<x@stranger.test> " ..
	    "to=<victim@else.test>", "queue id after abort")
	-- Aborts at other points: after MAIL, after DATA, twice in a row.
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	assert(mt.abort(c) == nil, "abort after MAIL")
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	rg.rcpt_is(c, "<carol@old.example>", SMFIR_CONTINUE)
	assert(mt.abort(c) == nil, "abort after DATA")
	assert(mt.abort(c) == nil, "second abort")
	mt.disconnect(c)

	-- ---- several messages on one connection -------------------------
	c = rg.open{ip = OUTSIDE}
	-- 1: local recipients, one rerouted at EOM (delete, then add).
	assert(rg.mail(c, "<x@stranger.test>", {"i", "B1"}) == SMFIR_CONTINUE, "mail B1")
	rg.rcpt_is(c, "<alice@old.example>", SMFIR_CONTINUE)
	rg.rcpt_is(c, "<Bob@OLD.EXAMPLE.>", SMFIR_CONTINUE)
	rg.rcpt_is(c, "<carol@example.com>", SMFIR_CONTINUE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom B1")
	assert(mt.eom_check(c, MT_RCPTDELETE, "<alice@old.example>"), "B1: alice not deleted")
	assert(mt.eom_check(c, MT_RCPTADD, "<alice@example.com>"), "B1: alice not added")
	assert(mt.eom_check(c, MT_RCPTDELETE, "<Bob@OLD.EXAMPLE.>"), "B1: Bob not deleted as given")
	assert(mt.eom_check(c, MT_RCPTADD, "<Bob@example.com>"), "B1: Bob not added")
	assert(not mt.eom_check(c, MT_RCPTDELETE, "<carol@example.com>"), "B1: carol deleted")
	-- 2: judged on its own: relay refused, no reroute left over from 1.
	assert(rg.mail(c, "<x@stranger.test>", {"i", "B2"}) == SMFIR_CONTINUE, "mail B2")
	rg.rcpt_is(c, "<victim@else.test>", SMFIR_REPLYCODE)
	rg.rcpt_is(c, "<dave@example.com>", SMFIR_CONTINUE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom B2")
	assert(not mt.eom_check(c, MT_RCPTDELETE, "<alice@old.example>"), "B2: B1's reroute again")
	assert(not mt.eom_check(c, MT_RCPTADD, "<alice@example.com>"), "B2: B1's reroute again")
	rg.log_has("B2: rcpt: reject 550 5.7.1 Relaying denied", "B2 refusal with its queue id")
	-- An RSET-like abort between messages.
	assert(mt.abort(c) == nil, "abort between messages")
	-- 3: accepted again, its own reroute only.
	assert(rg.mail(c, "<y@stranger.test>", {"i", "B3"}) == SMFIR_CONTINUE, "mail B3")
	rg.rcpt_is(c, "<\"e f\"@old.example>", SMFIR_CONTINUE)
	assert(rg.eom(c) == SMFIR_CONTINUE, "eom B3")
	assert(mt.eom_check(c, MT_RCPTDELETE, "<\"e f\"@old.example>"), "B3: quoted not deleted")
	assert(mt.eom_check(c, MT_RCPTADD, "<\"e f\"@example.com>"), "B3: quoted not added")
	assert(not mt.eom_check(c, MT_RCPTADD, "<alice@example.com>"), "B3: B1's reroute again")
	assert(not mt.eom_check(c, MT_RCPTADD, "<Bob@example.com>"), "B3: B1's reroute again")
	mt.disconnect(c)
	rg.log_lacks("B3: rcpt: reject", "B3")

	-- ---- interleaved connections keep their own state ---------------
	local inside = rg.open{ip = "192.0.2.10"}
	local outside = rg.open{ip = OUTSIDE}
	local authed = rg.open{ip = OUTSIDE}
	assert(rg.mail(inside, "<a@example.com>") == SMFIR_CONTINUE, "mail inside")
	assert(rg.mail(outside, "<b@stranger.test>") == SMFIR_CONTINUE, "mail outside")
	assert(rg.mail(authed, "<c@stranger.test>", {"{auth_authen}", "carol"}) == SMFIR_CONTINUE,
	    "mail authenticated")
	rg.rcpt_is(outside, "<x@else.test>", SMFIR_REPLYCODE)
	rg.rcpt_is(inside, "<x@else.test>", SMFIR_CONTINUE)
	rg.rcpt_is(authed, "<x@else.test>", SMFIR_CONTINUE)
	rg.rcpt_is(outside, "<y@else.test>", SMFIR_REPLYCODE)
	rg.rcpt_is(outside, "<z@old.example>", SMFIR_CONTINUE)
	assert(rg.eom(inside) == SMFIR_CONTINUE, "eom inside")
	assert(not mt.eom_check(inside, MT_RCPTDELETE, "<z@old.example>"), "inside got outside's reroute")
	assert(rg.eom(outside) == SMFIR_CONTINUE, "eom outside")
	assert(mt.eom_check(outside, MT_RCPTADD, "<z@example.com>"), "outside lost its reroute")
	mt.disconnect(inside)
	mt.disconnect(outside)
	mt.disconnect(authed, false)

	-- ---- many connections in a row ----------------------------------
	for i = 1, 100 do
		c = rg.open{ip = (i % 2 == 0) and OUTSIDE or "192.0.2." .. (i % 250 + 1)}
		assert(rg.mail(c, "<m" .. i .. "@stranger.test>", {"i", "C" .. i}) == SMFIR_CONTINUE, "mail")
		rg.rcpt_is(c, "<u" .. i .. "@old.example>", SMFIR_CONTINUE)
		rg.rcpt_is(c, "<u" .. i .. "@else.test>", (i % 2 == 0) and SMFIR_REPLYCODE or SMFIR_CONTINUE)
		if i % 3 == 0 then
			assert(mt.abort(c) == nil, "abort")
		else
			assert(rg.eom(c) == SMFIR_CONTINUE, "eom")
			assert(mt.eom_check(c, MT_RCPTADD, "<u" .. i .. "@example.com>"), "reroute " .. i)
		end
		mt.disconnect(c, i % 5 ~= 0)
	end
	assert(rg.log_count("rcpt: reject") == 4 + 50, "refusals logged: " .. rg.log_count("rcpt: reject"))
	expect_no_sessions("after all connections")
end)
