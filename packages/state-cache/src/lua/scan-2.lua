--[[
  One HSCAN step over a partition's data hash, with the partition's sequence read atomically.
  KEYS[1] data hash   KEYS[2] partition meta hash
  ARGV[1] cursor      ARGV[2] COUNT hint
  returns { gen or '', seq or '0', next cursor, field1, value1, field2, value2, ... }
]]
local r = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = { redis.call('HGET', KEYS[2], 'gen') or '', redis.call('HGET', KEYS[2], 'seq') or '0', r[1] }
for i = 1, #r[2] do
  out[#out + 1] = r[2][i]
end
return out
