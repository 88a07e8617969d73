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
  local s = redis.call('GET', lock)
  if s and cx_owns(s, ARGV[b + 1]) then
    local head, tail = string.match(s, '^(%S+ %d+ %d+ )%d+( .*)$')
    redis.call('SET', lock, head .. now .. tail, 'PX', ARGV[b + 2])
    out[#out + 1] = 1
  elseif not s then
    local fence = tonumber(ARGV[b + 3])
    if tonumber(redis.call('GET', counter) or '0') < fence then redis.call('SET', counter, fence) end
    redis.call('SET', lock, cx_pack(ARGV[b + 1], fence, now, now, ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]),
      'PX', ARGV[b + 2])
    out[#out + 1] = 2
  else
    out[#out + 1] = 0
  end
end
return out
