--[[
  Releases the rebuild lease if this instance holds it.
  KEYS[1] lease key   ARGV[1] holder id
  returns 1 released, 0 not the holder
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
