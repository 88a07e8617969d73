--[[
  Extends the rebuild lease if this instance still holds it.
  KEYS[1] lease key   ARGV[1] holder id   ARGV[2] ttl ms
  returns 1 extended, 0 not the holder
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
