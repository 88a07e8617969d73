-- cxkit_locks semaphore heartbeat: move the deadline of every listed permit this owner still holds.
-- KEYS[1] holders (zset)  KEYS[2] holder records (hash)  KEYS[3] fence counter
-- ARGV[1] limit  ARGV[2] key lifetime ms  ARGV[3] fence counter lifetime ms; then for permit i, six
--   values from ARGV[4 + 6(i-1)]: token, validity ms, fence, region, operation, correlation id
-- returns {r1, r2, ...}: 1 extended  2 re-claimed (it was gone and a permit was free)  0 lost
local now = cx_now()
local out = {}
for i = 0, (#ARGV - 3) / 6 - 1 do
  local b = 3 + i * 6
  local token = ARGV[b + 1]
  local s = redis.call('HGET', KEYS[2], token)
  if s and redis.call('ZSCORE', KEYS[1], token) then
    -- Heartbeat and stale-after (the permit's validity, which extend(ttlMs) may have changed) move.
    local head, tail = string.match(s, '^(%S+ %d+ %d+ )%d+ %d+( .*)$')
    if head then
      redis.call('HSET', KEYS[2], token, head .. now .. ' ' .. ARGV[b + 2] .. tail)
    end
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[b + 2]), token)
    out[#out + 1] = 1
  elseif redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    local fence = tonumber(ARGV[b + 3])
    if tonumber(redis.call('GET', KEYS[3]) or '0') < fence then
      redis.call('SET', KEYS[3], ARGV[b + 3], 'PX', ARGV[3])
    end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[b + 2]), token)
    redis.call('HSET', KEYS[2], token, cx_pack(token, ARGV[b + 3], now, now, ARGV[b + 2], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]))
    out[#out + 1] = 2
  else
    out[#out + 1] = 0
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return out
