-- cxkit_locks release: for each listed lock, delete the record if its owner still holds it, and report
-- (or wake) waiters. Many callers' releases on one node share one call.
-- KEYS per lock i: KEYS[2i-1] lock record, KEYS[2i] waiters flag (set by the acquire script when a
--   contender met this lock)
-- ARGV[1] '1' to PUBLISH here when someone waited, '0' to only report it; then per lock i, three values
--   from ARGV[2 + 3(i-1)]: token, release channel ('' to stay silent, e.g. cleanup of a failed round),
--   resource name
-- returns {r1, r2, ...}: 1 released, nobody waited  2 released and a contender waited  0 absent
--   (expired)  -1 held by another owner (taken over)
local out = {}
for i = 1, #KEYS / 2 do
  local lock, waiters = KEYS[2 * i - 1], KEYS[2 * i]
  local b = 3 * i - 1
  local token, channel = ARGV[b], ARGV[b + 1]
  -- The record and the waiters flag in one read: an uncontended release is one MGET and one DEL.
  local m = redis.call('MGET', lock, waiters)
  local s = m[1]
  if not s then
    out[i] = 0
  elseif string.sub(s, 1, #token + 1) ~= token .. ' ' then
    out[i] = -1
  else
    redis.call('DEL', lock)
    -- A release publishes only while the flag lives (a contender met this lock within its TTL); the
    -- flag is not consumed, so every waiter queued behind the next holder is woken by its release too.
    if channel == '' or not m[2] then
      out[i] = 1
    else
      if ARGV[1] == '1' then redis.call('PUBLISH', channel, ARGV[b + 2]) end
      out[i] = 2
    end
  end
end
return out
