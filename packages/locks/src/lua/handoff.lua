-- cxkit_locks hand-off: a release and the acquire of the same lock written right after it to the same
-- node (a lock handed to a waiter of the same manager), as one script with the replies of the two in
-- order. The plain case, the releasing owner's live record with a well-formed epoch marker (guard on),
-- takes TIME, one read and one write instead of three commands each (on a node woken from idle each
-- command costs several microseconds). Any other case runs the release and the acquire scripts
-- themselves, one after the other (cx_apart above), still inside this call, so nothing the client
-- writes later can run between them.
-- KEYS and ARGV[1..10]: those of acquire.lua for one lock (the record and its waiters flag are the
--   release's); ARGV[11..16] those of release.lua for that lock (publish flag, retention, token,
--   channel '', name, fence)
-- returns {release reply, acquire reply}; a part that fails is an error reply in its place
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local s, epoch, created
if ARGV[1] == '1' then
  local m = redis.call('MGET', KEYS[3], KEYS[2])
  s = m[1]
  epoch, created = string.match(m[2] or '', '^(%S+) (%d+)$')
  if not epoch then return cx_apart() end
else
  -- MGET, as the release reads it: a key of another type reads as absent instead of failing.
  s = redis.call('MGET', KEYS[3])[1]
  epoch, created = '', nil
end
-- "<expires> <high-water> <token> ...": the releasing owner's live record, or the waiter's own grant (a
-- repeat of this call after its reply was lost: granted again over it; the release is answered -3,
-- unknown, as what the first run answered for it, in time or not, cannot be read back); anything else
-- runs the two scripts.
local exp, hw, p = string.match(s or '', '^(%d+) (%d+) ()')
local function owner(token)
  return string.sub(s, p, p + #token) == token .. ' '
end
local again = p and owner(ARGV[7])
if not p or tonumber(exp) <= now or not (again or owner(ARGV[13])) then return cx_apart() end
-- The grant as acquire.lua writes it.
local fence, digits = cx_grant_fence(tonumber(hw), t)
local ttl = tonumber(ARGV[8])
redis.call('SET', KEYS[3], cx_grant_record(tostring(now + ttl), digits, ARGV[7], tostring(now), ARGV[2], ARGV[9]),
  'PX', ttl + tonumber(ARGV[5]))
return { { again and -3 or 1 }, { epoch, created and now - tonumber(created) or -1, 1, fence, 0 } }
