-- flood-glue.lua - what the libmilter glue adds to the flood limits:
-- it asks for SMFIP_RCPT_REJ when client_bad_recipients is on (so the
-- recipients the MTA refuses itself are counted), passes their macros to
-- the core, and gives a connection's place in client_connections back
-- when the MTA closes it.
local port, work = os.getenv("RG_PORT"), os.getenv("RG_WORK")
local conf = work .. "/flood.conf"
local f = assert(io.open(conf, "w"))
f:write("local_domains = example.com\n",
	"client_bad_recipients = 2/10m\n",
	"client_connections = 1\n")
f:close()
local user = io.popen("id -un"):read("*l")
mt.startfilter(os.getenv("RELAYGUARD"), "-f", "-u", user, "-c", conf,
	"-p", "inet:" .. port .. "@127.0.0.1")
local sock = "inet:" .. port .. "@127.0.0.1"

local function open(ip)
	local c = assert(mt.connect(sock, 40, 0.25))
	assert(mt.negotiate(c, nil, nil, nil) == nil)
	assert(mt.conninfo(c, "client.example.org", ip) == nil)
	return c, mt.getreply(c)
end

local c, r = open("198.51.100.7")
assert(r == SMFIR_CONTINUE, "first connection continues")
assert(mt.test_option(c, SMFIP_RCPT_REJ), "SMFIP_RCPT_REJ requested when client_bad_recipients is on")

-- a second connection of the same client is one too many...
local c2
c2, r = open("198.51.100.7")
assert(r == SMFIR_REPLYCODE, "second concurrent connection refused (421)")
mt.disconnect(c2)
mt.sleep(0.3)

assert(mt.helo(c, "client.example.org") == nil)
assert(mt.mailfrom(c, "<spam@stranger.example>") == nil)
assert(mt.getreply(c) == SMFIR_CONTINUE, "MAIL continues")
for i = 1, 3 do
	-- refused by the MTA itself: shown to us with {rcpt_mailer} = error
	mt.macro(c, SMFIC_RCPT, "{rcpt_mailer}", "error", "{rcpt_host}", "5.1.1")
	assert(mt.rcptto(c, "<nobody" .. i .. "@example.com>") == nil)
	assert(mt.getreply(c) == SMFIR_CONTINUE, "an MTA-refused recipient: the MTA's answer stands")
end
-- the MTA sends the RCPT macros with every recipient
mt.macro(c, SMFIC_RCPT, "{rcpt_mailer}", "local", "{rcpt_host}", "example.com")
assert(mt.rcptto(c, "<alice@example.com>") == nil)
assert(mt.getreply(c) == SMFIR_REPLYCODE, "past 2 bad recipients: 421 from the next command on")
mt.disconnect(c)
mt.sleep(0.3)

-- ...and after both closed, the client has its place back (but is in penalty)
c, r = open("198.51.100.7")
assert(r == SMFIR_REPLYCODE, "penalty: 421 at connect")
mt.disconnect(c)
c, r = open("198.51.100.8")
assert(r == SMFIR_CONTINUE, "another client connects")
mt.disconnect(c)
