--[[
  Applies a batch of versioned events to one partition, atomically, and publishes one invalidation.
  KEYS[1] data hash          field key -> '<version>|<json>'
  KEYS[2] tombstone hash     field key -> version of the DELETE
  KEYS[3] tombstone expiries zset member key, score = expiry in server ms
  KEYS[4] partition meta     hash: seq (bus sequence), gen (generation marker)
  ARGV[1] bus channel   ARGV[2] partition   ARGV[3] writer id   ARGV[4] tombstone ttl ms
  ARGV[5] event count n, then n x (key, version, type 'C'|'U'|'D', json value or '')
  returns { gen or '', seq ('0' when nothing applied), then per event: 1|0 applied, stored version }
  An event applies only when its version is greater than the stored one (live value or live tombstone).
  The sequence starts at server-ms * 100 when the meta hash is missing, so it keeps growing across a
  restart that lost the data and subscribers see the restart as a gap.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])

-- Bounded purge of expired tombstones.
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 64)
for _, k in ipairs(expired) do
  redis.call('HDEL', KEYS[2], k)
  redis.call('ZREM', KEYS[3], k)
end

local n = tonumber(ARGV[5])
local out = {}
local changed = {}
for i = 0, n - 1 do
  local base = 6 + i * 4
  local key, vs, ty = ARGV[base], ARGV[base + 1], ARGV[base + 2]
  local v = tonumber(vs)
  local stored, storedS, tomb = -1, '-1', false
  local cur = redis.call('HGET', KEYS[1], key)
  if cur then
    storedS = string.sub(cur, 1, string.find(cur, '|', 1, true) - 1)
    stored = tonumber(storedS)
  else
    local tv = redis.call('HGET', KEYS[2], key)
    if tv then
      local exp = tonumber(redis.call('ZSCORE', KEYS[3], key) or '0')
      if exp > now then
        stored, storedS, tomb = tonumber(tv), tv, true
      else
        redis.call('HDEL', KEYS[2], key)
        redis.call('ZREM', KEYS[3], key)
      end
    end
  end
  if v > stored then
    if ty == 'D' then
      if cur then redis.call('HDEL', KEYS[1], key) end
      redis.call('HSET', KEYS[2], key, vs)
      redis.call('ZADD', KEYS[3], now + ttl, key)
    else
      redis.call('HSET', KEYS[1], key, vs .. '|' .. ARGV[base + 3])
      if tomb then
        redis.call('HDEL', KEYS[2], key)
        redis.call('ZREM', KEYS[3], key)
      end
    end
    out[#out + 1] = 1
    out[#out + 1] = vs
    changed[#changed + 1] = key
    changed[#changed + 1] = (ty == 'D') and ('-' .. vs) or vs
  else
    out[#out + 1] = 0
    out[#out + 1] = storedS
  end
end

local seq = '0'
if #changed > 0 then
  if redis.call('HEXISTS', KEYS[4], 'seq') == 0 then
    redis.call('HSET', KEYS[4], 'seq', string.format('%d', now * 100))
  end
  seq = string.format('%d', redis.call('HINCRBY', KEYS[4], 'seq', 1))
  redis.call('PUBLISH', ARGV[1], '{"p":' .. ARGV[2] .. ',"s":' .. seq .. ',"w":' .. cjson.encode(ARGV[3]) ..
    ',"e":' .. cjson.encode(changed) .. '}')
end
local gen = redis.call('HGET', KEYS[4], 'gen') or ''
table.insert(out, 1, seq)
table.insert(out, 1, gen)
return out
