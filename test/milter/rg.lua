-- rg.lua - helpers shared by the miltertest scripts of relayguard's glue.
-- A script loads it with dofile(os.getenv("RG_DATA") .. "/rg.lua").
--
-- The runner (test/milter/run-lua) sets RG_PORT (a free loopback port),
-- RG_WORK (a private directory, also the current directory) and RG_DATA
-- (the directory of the scripts); make check sets RELAYGUARD (the binary).
-- Everything a script writes goes to RG_WORK.
--
-- miltertest facts these helpers work around (LIBRARIES 1.12, and what
-- these scripts observed with miltertest 1.6.0 on Debian 12):
--  * it keeps only the command byte of a reply before end of message, so
--    the text of an SMFIR_REPLYCODE at RCPT or DATA is only visible
--    through the wiretap proxy below;
--  * it sends only the macros a script gives it (smfi_setsymlist is not
--    honoured), and a later stage's command (mt.helo) drops the macros of
--    the stages after it;
--  * mt.negotiate(conn, version, STEPS, ACTIONS): the code takes the
--    protocol steps third and the actions fourth, the man page says the
--    opposite;
--  * a script that fails exits 1 without printing the error, hence rg.run.

local unpack = table.unpack or unpack

local rg = {}

rg.port = assert(os.getenv("RG_PORT"), "RG_PORT is not set (run through test/milter/run-lua)")
rg.work = assert(os.getenv("RG_WORK"), "RG_WORK is not set")
rg.data = assert(os.getenv("RG_DATA"), "RG_DATA is not set")
rg.bin = assert(os.getenv("RELAYGUARD"), "RELAYGUARD is not set")
rg.sock = "inet:" .. rg.port .. "@127.0.0.1"

rg.reply_names = {
	[SMFIR_CONTINUE] = "CONTINUE", [SMFIR_REJECT] = "REJECT", [SMFIR_TEMPFAIL] = "TEMPFAIL",
	[SMFIR_REPLYCODE] = "REPLYCODE", [SMFIR_ACCEPT] = "ACCEPT", [SMFIR_DISCARD] = "DISCARD",
}

local function rname(r)
	return rg.reply_names[r] or string.format("reply %s", tostring(r))
end

-- Run the test body FN; on failure print the error with a traceback
-- (miltertest prints nothing) and fail.  miltertest then stops the filter.
function rg.run(fn)
	local ok, err = xpcall(fn, debug.traceback)
	if not ok then
		io.stderr:write("FAIL: ", tostring(err), "\n")
		error(err, 0)
	end
end

-- Write TEXT to the file NAME in the work directory.
function rg.write(name, text)
	local f = assert(io.open(name, "w"))
	f:write(text)
	f:close()
end

-- The contents of NAME, or "" if it does not exist.
function rg.read(name)
	local f = io.open(name, "r")
	if f == nil then
		return ""
	end
	local s = f:read("a")
	f:close()
	return s
end

-- Write CONF as relayguard.conf and start the filter on rg.sock, in the
-- foreground, as nobody, with a pid file; its stderr (the log, and any
-- sanitizer report) goes to relayguard.log, which run-lua prints and
-- checks.  The worker runs as nobody and rereads the file on SIGHUP, so
-- the directory and the file are made readable to it.
--
-- The DNS checks (rdns, spf: annotate by default) have tests of their own
-- with a DNS server on loopback; unless CONF sets them, they are turned
-- off here so these scripts never query the system's resolver.
function rg.start(conf)
	for _, key in ipairs({"rdns", "spf"}) do
		if not ("\n" .. conf):find("\n%s*" .. key .. "%s*=") then
			conf = conf .. "\n" .. key .. " = off\n"
		end
	end
	rg.write("relayguard.conf", conf)
	os.execute("chmod 755 . && chmod 644 relayguard.conf")
	mt.startfilter("/bin/sh", "-c",
	    'exec "$0" -f -c relayguard.conf -p "$1" -u nobody -P relayguard.pid 2>>relayguard.log',
	    rg.bin, rg.sock)
end

-- A new connection to the filter (retries while it starts).
function rg.connect(sock)
	local c = mt.connect(sock or rg.sock, 40, 0.25)
	if c == nil then
		error("cannot connect to the filter at " .. (sock or rg.sock), 2)
	end
	return c
end

-- Fail unless the last reply on C is WANT.
function rg.expect(c, want, what)
	local got = mt.getreply(c)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what, rname(got), rname(want)), 2)
	end
end

-- Negotiate with the MTA's defaults, send the connect macros, then the
-- connect event and HELO, both of which must continue.  O holds:
--   ip      client address for the connect event ("unspec": none)
--   name    client host name (default client.example.org)
--   macros  connect macros, a flat list of name, value pairs (optional)
--   helo    the HELO argument (default client.example.org)
--   conn    an open connection to use (default: a new one)
-- Returns the connection.
function rg.open(o)
	local c = o.conn or rg.connect()
	assert(mt.negotiate(c, nil, nil, nil) == nil, "negotiate")
	if o.macros ~= nil then
		assert(mt.macro(c, SMFIC_CONNECT, unpack(o.macros)) == nil, "connect macros")
	end
	assert(mt.conninfo(c, o.name or "client.example.org", o.ip) == nil, "conninfo")
	rg.expect(c, SMFIR_CONTINUE, "connect " .. o.ip)
	assert(mt.helo(c, o.helo or "client.example.org") == nil, "helo")
	rg.expect(c, SMFIR_CONTINUE, "helo")
	return c
end

-- MAIL FROM:<ADDR> after the MAIL macros (or nil); returns the reply.
function rg.mail(c, addr, macros)
	if macros ~= nil then
		assert(mt.macro(c, SMFIC_MAIL, unpack(macros)) == nil, "mail macros")
	end
	assert(mt.mailfrom(c, addr) == nil, "mailfrom " .. addr)
	return mt.getreply(c)
end

-- RCPT TO:<ADDR> after the RCPT macros (or nil); returns the reply.
function rg.rcpt(c, addr, macros)
	if macros ~= nil then
		assert(mt.macro(c, SMFIC_RCPT, unpack(macros)) == nil, "rcpt macros")
	end
	assert(mt.rcptto(c, addr) == nil, "rcptto " .. addr)
	return mt.getreply(c)
end

-- Fail unless RCPT TO:<ADDR> gets WANT.
function rg.rcpt_is(c, addr, want, macros)
	local got = rg.rcpt(c, addr, macros)
	if got ~= want then
		error(string.format("rcpt %s: got %s, want %s", addr, rname(got), rname(want)), 2)
	end
end

-- End of message (DATA, headers and body are filled in by miltertest
-- where the filter negotiated them); returns the reply.
function rg.eom(c)
	assert(mt.eom(c) == nil, "eom")
	return mt.getreply(c)
end

-- Fail unless the filter's log contains the plain string S.
function rg.log_has(s, what)
	if not string.find(rg.read("relayguard.log"), s, 1, true) then
		error(string.format("%s: the log has no %q", what or "log", s), 2)
	end
end

-- Fail if the filter's log contains the plain string S.
function rg.log_lacks(s, what)
	if string.find(rg.read("relayguard.log"), s, 1, true) then
		error(string.format("%s: the log has %q", what or "log", s), 2)
	end
end

-- Number of times the plain string S occurs in the log.
function rg.log_count(s)
	local text, n, i = rg.read("relayguard.log"), 0, 1
	while true do
		local j = string.find(text, s, i, true)
		if j == nil then
			return n
		end
		n, i = n + 1, j + #s
	end
end

-- Wait until the log holds S (at most SECONDS); false if it never does.
function rg.log_wait(s, seconds)
	for _ = 1, (seconds or 10) * 10 do
		if string.find(rg.read("relayguard.log"), s, 1, true) then
			return true
		end
		mt.sleep(0.1)
	end
	return false
end

-- ---- wiretap: see what the filter sends (test/milter/wiretap.pl) ----

local taps = 0

-- Skip the test (exit 77) when perl cannot run the wiretap.  Call it
-- before rg.start: os.exit leaves a started filter running.
function rg.need_wiretap()
	if not os.execute("perl -MIO::Socket::INET -MIO::Select -e 1 2>/dev/null") then
		print("perl with IO::Socket::INET is missing: the wiretap cannot run; skipped")
		os.exit(77)
	end
end

-- Start a recording proxy in front of the filter and return a connection
-- through it, plus a function that returns the packets the filter has sent
-- so far, each {cmd = "y", data = "550 5.7.1 ...\x00"}.
function rg.tapped()
	taps = taps + 1
	local log, portfile = "wiretap" .. taps .. ".log", "wiretap" .. taps .. ".port"
	local cmd = string.format("perl '%s/wiretap.pl' %s %s %s 2>>wiretap.err &", rg.data,
	    rg.port, log, portfile)
	assert(os.execute(cmd), "cannot start the wiretap")
	local port
	for _ = 1, 100 do
		port = string.match(rg.read(portfile), "^(%d+)\n")
		if port ~= nil then
			break
		end
		mt.sleep(0.1)
	end
	if port == nil then
		error("the wiretap did not start: " .. rg.read("wiretap.err"), 2)
	end
	local c = rg.connect("inet:" .. port .. "@127.0.0.1")
	local function packets()
		local list = {}
		for line in string.gmatch(rg.read(log), "([^\n]*)\n") do
			list[#list + 1] = {cmd = string.sub(line, 1, 1), data = string.sub(line, 3)}
		end
		return list
	end
	return c, packets
end

-- The text of the last packet if it is an SMFIR_REPLYCODE, else nil.
function rg.last_replycode(packets)
	local list = packets()
	local last = list[#list]
	if last == nil or last.cmd ~= "y" then
		return nil
	end
	return (string.gsub(last.data, "\\x00$", ""))
end

-- Fail unless the last packet is an SMFIR_REPLYCODE with exactly TEXT.
function rg.wire_is(packets, text, what)
	local got = rg.last_replycode(packets)
	if got ~= text then
		error(string.format("%s: on the wire %q, want %q", what, tostring(got), text), 2)
	end
end

return rg
