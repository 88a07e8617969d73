--[[
  Saves one checkpoint of a session atomically: fence check, compare-and-set, next revision, bounded
  history, sliding TTL capped by a hard maximum age. Time comes from the server (TIME).

  KEYS[1] session hash (`<namespace>:{<sessionId>}`), fields:
          rev (counter), fence (highest seen), first, low (oldest kept revision besides first),
          born (ms of the first save), cur (latest payload), r:<n> (older payloads), q:<n>, qn
  ARGV[1] envelope JSON without revision/savedAt and without its opening '{' (prepended with them)
  ARGV[2] expected revision, '' for none (0: the session must have no checkpoint)
  ARGV[3] fence, '' for none
  ARGV[4] history: newest checkpoints kept besides the first
  ARGV[5] sliding TTL, ms
  ARGV[6] hard maximum age from the first save, ms

  Returns {1, revision, savedAtMs} on success,
          {0, actualRevision} when ARGV[2] is stale,
          {-1, highestFence, actualRevision} when ARGV[3] is lower than the highest fence seen.
]]
local key = KEYS[1]
-- Milliseconds built as text from TIME's seconds and microseconds: one number conversion instead of
-- three. Conversions (strtod/sprintf) are a measurable share of this script, so stored texts (rev,
-- low) are reused below instead of being formatted again.
local t = redis.call('TIME')
local us = t[2]
local nowText = t[1] .. string.sub('00' .. (#us > 3 and string.sub(us, 1, -4) or '0'), -3)
local now = tonumber(nowText)
local m = redis.call('HMGET', key, 'rev', 'fence', 'first', 'low', 'born', 'cur')
local rev = tonumber(m[1]) or 0
local born = tonumber(m[5])
local maxAge = tonumber(ARGV[6])
local fence = ARGV[3]

if born and born + maxAge <= now then
  -- Past its hard age the session is gone, exactly as if the key had expired a moment earlier.
  redis.call('DEL', key)
  rev = 0
  born = nil
  m = {}
end

-- The fence is checked first: a stale holder must not learn it merely needs a fresher revision.
if fence ~= '' and m[2] and tonumber(fence) < tonumber(m[2]) then
  return { -1, tonumber(m[2]), rev }
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= rev then
  return { 0, rev }
end

-- One HSET for everything; `n` counts its arguments (cheaper than `#` on every append).
local nextRev = rev + 1
local revText = string.format('%d', nextRev)
local fields = { 'rev', revText, 'cur', '{"revision":' .. revText .. ',"savedAt":' .. nowText .. ',' .. ARGV[1] }
local n = 4
if m[6] then
  -- The previous latest joins the history.
  fields[5] = 'r:' .. m[1]
  fields[6] = m[6]
  n = 6
end
if not born then
  born = now
  fields[n + 1] = 'first'
  fields[n + 2] = revText
  fields[n + 3] = 'born'
  fields[n + 4] = nowText
  n = n + 4
end
if fence ~= '' then
  -- Stored as given: Lua numbers print in %.14g and would round large fences.
  fields[n + 1] = 'fence'
  fields[n + 2] = fence
  n = n + 2
end

-- Keep the first checkpoint and the newest ARGV[4] (cur included); normally one field goes per save,
-- more only after `history` was lowered, and then at most 1000 per save.
local first = tonumber(m[3]) or nextRev
local low = tonumber(m[4]) or nextRev
local target = nextRev - tonumber(ARGV[4]) + 1
local lowText = m[4] -- the stored text of `low` until it moves
local drop = {}
local d = 0
while low < target and d < 1000 do
  if low ~= first then
    d = d + 1
    drop[d] = 'r:' .. (lowText or string.format('%d', low))
  end
  low = low + 1
  lowText = nil
end
fields[n + 1] = 'low'
fields[n + 2] = string.format('%d', low)

redis.call('HSET', key, unpack(fields))
if d > 0 then
  redis.call('HDEL', key, unpack(drop))
end
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + tonumber(ARGV[5]), born + maxAge)))
return { 1, nextRev, now }
