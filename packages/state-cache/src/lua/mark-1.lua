--[[
  Sets a partition's generation marker after a rebuild, and starts its bus sequence if it has none.
  KEYS[1] partition meta hash   ARGV[1] generation
  returns the partition's sequence
]]
if redis.call('HEXISTS', KEYS[1], 'seq') == 0 then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'seq', string.format('%d', (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) * 100))
end
redis.call('HSET', KEYS[1], 'gen', ARGV[1])
return redis.call('HGET', KEYS[1], 'seq')
