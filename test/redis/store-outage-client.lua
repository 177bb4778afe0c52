-- store-outage-client.lua - one phase of store-outage.sh: daemon A has
-- store_failure = accept, daemon B store_failure = tempfail, both
-- client_message_rate = 2/1h.  RG_PHASE says which phase runs.
local s = dofile(os.getenv("RG_DATA") .. "/session.lua")
local a, b, phase = os.getenv("RG_PORT_A"), os.getenv("RG_PORT_B"), os.getenv("RG_PHASE")
local r

if phase == "before" then
	local ca = s.open(a, "198.51.100.7")
	s.expect("A, Redis up: message 1", s.mail(ca), "continue")
	s.expect("A, Redis up: message 2", s.mail(ca), "continue")
	s.expect("A, Redis up: message 3 over 2/1h", s.mail(ca), "replycode")
	mt.disconnect(ca)
elseif phase == "down" then
	local ca = s.open(a, "198.51.100.9")
	for i = 1, 5 do
		s.expect("A, Redis down, store_failure = accept: message " .. i, s.mail(ca), "continue")
	end
	mt.disconnect(ca)
	local cb
	cb, r = s.open(b, "198.51.100.9")
	s.expect("B, Redis down: connect (no limit at connect)", r, "continue")
	for i = 1, 3 do
		s.expect("B, Redis down, store_failure = tempfail: message " .. i, s.mail(cb), "replycode")
	end
	mt.disconnect(cb)
elseif phase == "after" then
	local ca = s.open(a, "198.51.100.9")
	s.expect("A, Redis back: message 1", s.mail(ca), "continue")
	s.expect("A, Redis back: message 2", s.mail(ca), "continue")
	s.expect("A, Redis back: message 3 over 2/1h again", s.mail(ca), "replycode")
	mt.disconnect(ca)
	local cb = s.open(b, "198.51.100.10")
	s.expect("B, Redis back: message 1", s.mail(cb), "continue")
	mt.disconnect(cb)
end
