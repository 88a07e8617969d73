-- cxkit_locks heartbeat: extend every listed lock this owner still holds, in one call per node.
-- KEYS[1] node epoch marker; then for lock i: KEYS[2i] lock record, KEYS[2i+1] fence counter
-- ARGV[1] amnesia guard '1'|'0'  ARGV[2] epoch id to create if absent
-- then for lock i, six values from ARGV[3 + 6(i-1)]: token, ttl ms, fence, region, operation, correlation id
-- returns {epoch id, epoch age ms, r1, r2, ...}
--   r 1: extended  2: re-claimed (record was absent here, e.g. the node restarted)  0: held by another owner
-- A re-claim only writes where nobody holds the lock, so it never displaces another owner.
local now = cx_now()
local epoch, age = cx_epoch(KEYS[1], ARGV[1], ARGV[2], now)
local out = { epoch, age }
for i = 1, (#KEYS - 1) / 2 do
  local lock, counter = KEYS[2 * i], KEYS[2 * i + 1]
  local b = 2 + (i - 1) * 6
  local tok = redis.call('HGET', lock, 'tok')
  if tok == ARGV[b + 1] then
    redis.call('HSET', lock, 'hb', now)
    redis.call('PEXPIRE', lock, ARGV[b + 2])
    out[#out + 1] = 1
  elseif not tok then
    local fence = tonumber(ARGV[b + 3])
    if tonumber(redis.call('GET', counter) or '0') < fence then redis.call('SET', counter, fence) end
    redis.call('HSET', lock, 'tok', ARGV[b + 1], 'reg', ARGV[b + 4], 'op', ARGV[b + 5], 'cid', ARGV[b + 6],
      'acq', now, 'hb', now, 'fen', fence)
    redis.call('PEXPIRE', lock, ARGV[b + 2])
    out[#out + 1] = 2
  else
    out[#out + 1] = 0
  end
end
return out
