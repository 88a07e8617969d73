-- cxkit_locks hand-off: a release and the acquire of the same lock written right after it to the same
-- node (a lock handed to a waiter of the same manager), as one script: TIME, one read and one write
-- instead of three commands each. It hands the lock over only in the plain case, when the releasing
-- owner still holds a live record; it then ends as the two scripts would (the record released, then
-- granted to the new owner). Otherwise it changes nothing and returns {}, and the client sends the
-- release and the acquire on their own.
-- KEYS and ARGV[1..10]: those of acquire.lua for one lock (the record and its waiters flag are the
--   release's); ARGV[11..14] those of release.lua for that lock (publish flag, token, channel '', name)
-- returns {release reply, acquire reply} as the two scripts reply (release 1, acquire granted), or {}
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local s, marker
if ARGV[1] == '1' then
  local m = redis.call('MGET', KEYS[3], KEYS[2])
  s, marker = m[1], m[2]
  -- A node without its marker restarted empty: the acquire script creates the marker.
  if not marker then return {} end
else
  s = redis.call('GET', KEYS[3])
end
-- "<expires> <high-water> <token> ...": the releasing owner's live record, or no hand-off.
local token = ARGV[12]
local exp, hw, p = string.match(s or '', '^(%d+) (%d+) ()')
if not p or tonumber(exp) <= now or string.sub(s, p, p + #token) ~= token .. ' ' then return {} end
-- The grant as acquire.lua writes it: fence max(high-water + 1, this node's second x 10^6).
local fence, digits = tonumber(hw) + 1, nil
local floor = tonumber(t[1]) * 1000000
if fence >= floor then digits = string.format('%.0f', fence) else fence, digits = floor, t[1] .. '000000' end
local ttl = tonumber(ARGV[8])
local now_digits = tostring(now)
redis.call('SET', KEYS[3], tostring(now + ttl) .. ' ' .. digits .. ' ' .. ARGV[7] .. ' ' .. digits .. ' '
  .. now_digits .. ' ' .. now_digits .. ' ' .. ARGV[2] .. ' ' .. ARGV[9], 'PX', ttl + tonumber(ARGV[5]))
local epoch, age = '', -1
if marker then
  local sp = string.find(marker, ' ', 1, true)
  epoch, age = string.sub(marker, 1, sp - 1), now - tonumber(string.sub(marker, sp + 1))
end
return { { 1 }, { epoch, age, 1, fence, 0 } }
