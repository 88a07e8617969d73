--[[
  vote-1: records one region's view of a primary, expiring by Redis server time.
  KEYS[1]  votes hash of the primary (field = region, value = "up|down:<expires at, ms>")
  ARGV[1]  region
  ARGV[2]  "up" or "down"
  ARGV[3]  ttl in ms
  returns  server time in ms
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + ttl))
-- The hash goes away when every region stops voting; fields expire individually by their stamp.
local pttl = redis.call('PTTL', KEYS[1])
if pttl < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return now
