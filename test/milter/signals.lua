-- signals.lua - the daemon keeps serving across SIGHUP (reload, all or
-- nothing): a good file takes effect for new connections while open ones
-- keep the snapshot they started with; a broken file is refused with
-- "file:line: problem" and the old policy goes on; a later good file is
-- taken again.  The worker must never die on the way.
local rg = dofile(os.getenv("RG_DATA") .. "/rg.lua")

local OUTSIDE = "203.0.113.9"

-- SIGHUP to the master (the pid file's pid), then wait for the worker to
-- log the outcome: the Nth "reloaded" or "reload ... failed" line.
local function reload(conf, outcome, n)
	rg.write("relayguard.conf", conf)
	assert(os.execute("kill -HUP $(cat relayguard.pid)"), "kill -HUP")
	for _ = 1, 100 do
		if rg.log_count(outcome) >= n then
			return
		end
		mt.sleep(0.1)
	end
	error(string.format("no %q line (#%d) after SIGHUP", outcome, n))
end

-- A new connection, one message: the reply to RCPT TO:<ADDR>.
local function try(addr)
	local c = rg.open{ip = OUTSIDE}
	assert(rg.mail(c, "<x@stranger.test>") == SMFIR_CONTINUE, "mail")
	local r = rg.rcpt(c, addr)
	mt.disconnect(c)
	return r
end

rg.run(function()
	rg.start("# signals.lua, generation 1\nlocal_domains = example.com\n")
	assert(try("<a@new.example>") == SMFIR_REPLYCODE, "generation 1: new.example accepted")

	-- A connection in the middle of a message across the reloads.
	local old = rg.open{ip = OUTSIDE}
	assert(rg.mail(old, "<x@stranger.test>") == SMFIR_CONTINUE, "mail (old connection)")
	rg.rcpt_is(old, "<bob@example.com>", SMFIR_CONTINUE)

	reload("# generation 2\nlocal_domains = example.com, new.example\n", "reloaded relayguard.conf", 1)
	rg.log_has("SIGHUP: reloading relayguard.conf", "master")
	rg.log_has("reloaded relayguard.conf (SIGHUP): generation 2 replaces 1", "worker")
	assert(try("<a@new.example>") == SMFIR_CONTINUE, "generation 2: new.example refused")
	-- The open connection keeps generation 1.
	rg.rcpt_is(old, "<b@new.example>", SMFIR_REPLYCODE)

	-- A broken file: refused as a whole, with file:line, generation 2 goes on.
	reload("# broken\nlocal_domains = example.com\nno_such_key = 1\n", "of relayguard.conf failed", 1)
	rg.log_has("relayguard.conf:3: ", "the broken line")
	rg.log_has("reload (SIGHUP) of relayguard.conf failed with 1 error; still running generation 2", "worker")
	assert(try("<a@new.example>") == SMFIR_CONTINUE, "after a broken reload: new.example refused")
	assert(try("<a@else.test>") == SMFIR_REPLYCODE, "after a broken reload: relaying allowed")

	-- A good file again is taken (the failure left nothing behind).
	reload("# generation 3\nlocal_domains = example.com\n", "reloaded relayguard.conf", 2)
	rg.log_has("reloaded relayguard.conf (SIGHUP): generation 3 replaces 2", "worker")
	assert(try("<a@new.example>") == SMFIR_REPLYCODE, "generation 3: new.example accepted")

	-- The old connection finishes its message on generation 1.
	rg.rcpt_is(old, "<carol@example.com>", SMFIR_CONTINUE)
	assert(rg.eom(old) == SMFIR_CONTINUE, "eom (old connection)")
	mt.disconnect(old)

	-- Several reloads in a row while connections come and go.
	for i = 1, 5 do
		reload("# again " .. i .. "\nlocal_domains = example.com\n", "reloaded relayguard.conf", 2 + i)
		assert(try("<a@example.com>") == SMFIR_CONTINUE, "after reload " .. i)
	end
	rg.log_has("generation 8 replaces 7", "eight generations")
	rg.log_lacks("worker ", "the worker ended or was restarted")

	-- "killall -HUP relayguard" reaches the worker too: libmilter would take
	-- SIGHUP as "stop", so the worker ignores it; the master reloads.
	local worker = string.match(rg.read("relayguard.log"), "relayguard%[(%d+)%]: notice: relayguard %S+ ready")
	assert(worker ~= nil, "no ready line with the worker's pid")
	assert(os.execute("kill -HUP " .. worker), "kill -HUP worker")
	mt.sleep(1)
	assert(try("<a@example.com>") == SMFIR_CONTINUE, "the worker stopped serving after its own SIGHUP")
	rg.log_lacks("stopped", "SIGHUP to the worker stopped it")
	rg.log_lacks("worker " .. worker .. " ended", "SIGHUP to the worker ended it")

	-- A worker that dies is restarted by the master, on the current file.
	rg.write("relayguard.conf", "# after the crash\nlocal_domains = example.com, new.example\n")
	assert(os.execute("kill -KILL " .. worker), "kill -KILL worker")
	assert(rg.log_wait("worker " .. worker .. " ended (killed by signal 9); restarting in 1 s"),
	    "the master did not notice the dead worker")
	for _ = 1, 150 do
		if rg.log_count("ready on " .. rg.sock) == 2 then
			break
		end
		mt.sleep(0.1)
	end
	assert(rg.log_count("ready on " .. rg.sock) == 2, "no new worker")
	assert(try("<a@new.example>") == SMFIR_CONTINUE, "the new worker does not serve the current file")
end)
