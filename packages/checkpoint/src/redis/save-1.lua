--[[
  Saves one checkpoint of a session atomically: fence check, compare-and-set, next revision, bounded
  history, sliding TTL capped by a hard maximum age. Time comes from the server (TIME).

  KEYS[1] session hash (`<namespace>:{<sessionId>}`), fields:
          rev (counter), fence (highest seen), first, low (oldest kept revision besides first),
          born (ms of the first save), cur (latest payload), r:<n> (older payloads), q:<n>, qn
  ARGV[1] envelope JSON without revision/savedAt (an object: starts with '{')
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
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local m = redis.call('HMGET', key, 'rev', 'fence', 'first', 'low', 'born', 'cur')
local rev = tonumber(m[1]) or 0
local born = tonumber(m[5])
local maxAge = tonumber(ARGV[6])

if born and born + maxAge <= now then
  -- Past its hard age the session is gone, exactly as if the key had expired a moment earlier.
  redis.call('DEL', key)
  rev = 0
  born = nil
  m = { false, false, false, false, false, false }
end

-- The fence is checked first: a stale holder must not learn it merely needs a fresher revision.
if ARGV[3] ~= '' and m[2] and tonumber(ARGV[3]) < tonumber(m[2]) then
  return { -1, tonumber(m[2]), rev }
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= rev then
  return { 0, rev }
end

local nextRev = rev + 1
local revText = string.format('%d', nextRev)
local record = '{"revision":' .. revText .. ',"savedAt":' .. string.format('%d', now) .. ',' .. string.sub(ARGV[1], 2)
local first = tonumber(m[3]) or nextRev
local low = tonumber(m[4]) or nextRev
local fields = { 'rev', revText, 'cur', record }
if m[6] then
  -- The previous latest joins the history.
  fields[#fields + 1] = 'r:' .. string.format('%d', rev)
  fields[#fields + 1] = m[6]
end
if not born then
  born = now
  fields[#fields + 1] = 'first'
  fields[#fields + 1] = revText
  fields[#fields + 1] = 'born'
  fields[#fields + 1] = string.format('%d', now)
end
if ARGV[3] ~= '' then
  -- Stored as given: Lua numbers print in %.14g and would round large fences.
  fields[#fields + 1] = 'fence'
  fields[#fields + 1] = ARGV[3]
end

-- Keep the first checkpoint and the newest ARGV[4] (cur included); normally one field goes per save,
-- more only after `history` was lowered, and then at most 1000 per save.
local target = nextRev - tonumber(ARGV[4]) + 1
local drop = {}
while low < target and #drop < 1000 do
  if low ~= first then
    drop[#drop + 1] = 'r:' .. string.format('%d', low)
  end
  low = low + 1
end
fields[#fields + 1] = 'low'
fields[#fields + 1] = string.format('%d', low)

redis.call('HSET', key, unpack(fields))
if #drop > 0 then
  redis.call('HDEL', key, unpack(drop))
end
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + tonumber(ARGV[5]), born + maxAge)))
return { 1, nextRev, now }
