-- session.lua - helpers for the miltertest scripts of test/redis (loaded
-- with dofile): open a milter session as an SMTP client would, send MAIL
-- FROM, and name the replies.
local M = {}

M.names = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_REPLYCODE] = "replycode",
	[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REJECT] = "reject", [SMFIR_ACCEPT] = "accept",
}

function M.name(code)
	return M.names[code] or tostring(code)
end

-- A session from client IP to the relayguard on PORT; returns the
-- connection and the name of the reply to the connect event.
function M.open(port, ip)
	local c = assert(mt.connect("inet:" .. port .. "@127.0.0.1", 40, 0.25))
	assert(mt.negotiate(c, nil, nil, nil) == nil)
	assert(mt.conninfo(c, "client.example.org", ip) == nil)
	return c, M.name(mt.getreply(c))
end

-- MAIL FROM on C (HELO first, once); the name of the reply.
function M.mail(c)
	assert(mt.mailfrom(c, "<sender@stranger.example>") == nil)
	return M.name(mt.getreply(c))
end

-- Check that GOT is WANT, with a message naming the step.
function M.expect(step, got, want)
	if got ~= want then
		error(step .. ": got " .. got .. ", want " .. want)
	end
	print("ok: " .. step .. ": " .. got)
end

return M
