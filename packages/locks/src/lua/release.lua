-- cxkit_locks release: for each listed lock, mark the record released (keeping its high-water fence) if
-- its owner still holds it, and report (or wake) waiters. Many callers' releases on one node share one call.
-- KEYS per lock i: KEYS[2i-1] lock record, KEYS[2i] waiters flag (set by the acquire script when a
--   contender met this lock)
-- ARGV[1] '1' to PUBLISH here when someone waited, '0' to only report it  ARGV[2] record retention ms;
--   then per lock i, four values from ARGV[4i-1]: token, release channel ('' to stay silent, e.g. cleanup
--   of a failed round), resource name, the lock's fence ('' if unknown)
-- returns {r1, r2, ...}: 1 released, nobody waited  2 released and a contender waited  0 absent,
--   released or expired (an expired record of this owner is still marked released)  -1 held by another
--   owner (taken over)  -2 the record is in another layout (left as it is)  (-3, unknown, comes only
--   from the hand-off script)
-- A repeat of a release that was in time (ioredis re-sends a call whose reply was lost) finds the record
-- released with this lock's fence as its high-water and the lock's expiry (the key's TTL less the
-- retention) still ahead: it answers 1 again, not 0. On one master or a Cluster only this lock's release
-- leaves its fence there before its expiry (a later owner's carries a higher one); a quorum's nodes can
-- share a fence between owners, so there the client sends none.
-- Plain string scans instead of the shared helpers: this runs once per lock and must stay cheap. The
-- node's TIME is read once, when the first record is found.
local now
local function clock()
  if not now then
    local t = redis.call('TIME')
    now = t[1] * 1000 + math.floor(t[2] / 1000)
  end
  return now
end
local out = {}
-- Every record and waiters flag in one read: an uncontended release is TIME, one MGET for the batch and
-- one SET per lock. A record this call wrote since (a lock listed twice) is read from `written`.
local m = redis.call('MGET', unpack(KEYS))
local written = {}
for i = 1, #KEYS / 2 do
  local lock = KEYS[2 * i - 1]
  local b = 4 * i - 1
  local token, channel, fence = ARGV[b], ARGV[b + 1], ARGV[b + 3]
  local s = written[lock]
  if s == nil then s = m[2 * i - 1] end
  -- "<expires> <high-water> <token> ...": p1, p2 are the first two spaces.
  local p1 = s and string.find(s, ' ', 1, true)
  local p2 = p1 and string.find(s, ' ', p1 + 1, true)
  local exp = p1 and tonumber(string.sub(s, 1, p1 - 1))
  if s and not exp then
    out[i] = -2
  elseif not p2 then
    -- Released ("0 <high-water>"): by this lock's own earlier run of this call, or absent for it.
    local again = exp == 0 and fence ~= '' and string.sub(s, p1 + 1) == fence
      and redis.call('PTTL', lock) > tonumber(ARGV[2])
    out[i] = again and 1 or 0
  elseif string.sub(s, p2 + 1, p2 + #token + 1) ~= token .. ' ' then
    -- Not ours: a holder's record (every numeric field in place), or another layout's.
    if not string.find(s, '^%d+ %d+ %S+ %d+ %d+ %d+ %d+ %d+ %d+ %d+ ') then
      out[i] = -2
    elseif exp > clock() then
      out[i] = -1
    else
      out[i] = 0
    end
  else
    -- The released record keeps the fence until Redis removes it: the key's TTL, the rest of the lock's
    -- TTL plus the retention, stays (KEEPTTL costs less than setting a new one).
    written[lock] = '0 ' .. string.sub(s, p1 + 1, p2 - 1)
    redis.call('SET', lock, written[lock], 'KEEPTTL')
    -- A release publishes only while the flag lives (a contender met this lock within its TTL); the
    -- flag is not consumed, so every waiter queued behind the next holder is woken by its release too.
    if exp <= clock() then
      out[i] = 0
    elseif channel == '' or not m[2 * i] then
      out[i] = 1
    else
      if ARGV[1] == '1' then redis.call('PUBLISH', channel, ARGV[b + 2]) end
      out[i] = 2
    end
  end
end
return out
