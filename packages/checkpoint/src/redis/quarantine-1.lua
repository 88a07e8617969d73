--[[
  Keeps an incompatible payload aside for audit, inside the session hash so it shares its TTL and
  deletion. Idempotent per revision; at most ARGV[3] entries per session.

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] revision
  ARGV[2] entry JSON ({ reason, detail, raw, quarantinedAt })
  ARGV[3] maximum entries per session

  Returns 1 when the entry is kept (now or before), 0 when the session is gone, -1 when full.
]]
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  return 0
end
local field = 'q:' .. ARGV[1]
if redis.call('HEXISTS', key, field) == 1 then
  return 1
end
if (tonumber(redis.call('HGET', key, 'qn')) or 0) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', key, field, ARGV[2])
redis.call('HINCRBY', key, 'qn', 1)
return 1
