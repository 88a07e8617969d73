--[[
  Reads keys of one partition together with the partition's bus sequence, atomically, so the caller
  can tell whether an invalidation it already received is newer than what it read.
  KEYS[1] data hash   KEYS[2] tombstone hash   KEYS[3] partition meta hash
  ARGV    keys to read
  returns { gen or '', seq or '0', then per key: '<version>|<json>', 'd<version>' (tombstone) or '' }
]]
local out = { redis.call('HGET', KEYS[3], 'gen') or '', redis.call('HGET', KEYS[3], 'seq') or '0' }
for i = 1, #ARGV do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur then
    out[#out + 1] = cur
  else
    local tv = redis.call('HGET', KEYS[2], ARGV[i])
    out[#out + 1] = tv and ('d' .. tv) or ''
  end
end
return out
