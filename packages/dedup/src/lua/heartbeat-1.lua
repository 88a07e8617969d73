--[[
  Extends a processing lease if the caller still owns it (compare on the owner token).

  KEYS[1]  record key
  ARGV[1]  owner token
  ARGV[2]  lease in ms
  ARGV[3]  key TTL in ms while in progress

  Returns the new lease expiry (server ms), or 0 when the lease is no longer the caller's.
]]
local rec = redis.call('HMGET', KEYS[1], 's', 't')
if rec[1] ~= 'p' or rec[2] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'x', expires)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return expires
