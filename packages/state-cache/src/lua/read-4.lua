--[[
  Reads keys of one partition together with the partition's bus sequence, atomically, so the caller
  can tell whether an invalidation it already received is newer than what it read.
  KEYS[1] data hash   KEYS[2] tombstone hash   KEYS[3] partition meta hash   KEYS[4] tombstone expiries
  ARGV    keys to read
  returns { gen or '', seq or '0', then per key: '<version>|<json>', 'd<version>' (tombstone) or '' }
  A tombstone past its expiry (not purged yet: only writes purge) reads as absent, as the apply script
  judges it: an older event may now be applied, and a reader caching "deleted at v" would never be told.
]]
local out = { redis.call('HGET', KEYS[3], 'gen') or '', redis.call('HGET', KEYS[3], 'seq') or '0' }
local now
for i = 1, #ARGV do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur then
    out[#out + 1] = cur
  else
    local tv = redis.call('HGET', KEYS[2], ARGV[i])
    if tv then
      if not now then
        local t = redis.call('TIME')
        now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      if tonumber(redis.call('ZSCORE', KEYS[4], ARGV[i]) or '0') <= now then tv = nil end
    end
    out[#out + 1] = tv and ('d' .. tv) or ''
  end
end
return out
