-- shared-store-client.lua - two relayguard daemons (A, B) counting in one Redis:
-- client_message_rate = 3/1h and client_connections = 2 are reached across
-- both; another client is not affected.  Run by shared-store.sh.
local s = dofile(os.getenv("RG_DATA") .. "/session.lua")
local a, b = os.getenv("RG_PORT_A"), os.getenv("RG_PORT_B")

local ca, r = s.open(a, "198.51.100.7")
s.expect("A: first connection", r, "continue")
local cb
cb, r = s.open(b, "198.51.100.7")
s.expect("B: second connection", r, "continue")
local c3
c3, r = s.open(a, "198.51.100.7")
s.expect("A: third connection (2 open on A and B)", r, "replycode")
mt.disconnect(c3)

s.expect("A: message 1", s.mail(ca), "continue")
s.expect("A: message 2", s.mail(ca), "continue")
s.expect("B: message 3", s.mail(cb), "continue")
s.expect("B: message 4 (limit reached across both)", s.mail(cb), "replycode")
s.expect("A: message 5", s.mail(ca), "replycode")

local other
other, r = s.open(b, "198.51.100.8")
s.expect("B: another client connects", r, "continue")
s.expect("B: another client sends", s.mail(other), "continue")
mt.disconnect(other)

-- closing a connection gives its place back, on whichever host it was
mt.disconnect(cb)
mt.sleep(0.5)
local c4
c4, r = s.open(a, "198.51.100.7")
s.expect("A: a new connection after B's closed", r, "continue")
mt.disconnect(c4)
mt.disconnect(ca)
