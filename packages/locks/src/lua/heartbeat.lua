-- cxkit_locks heartbeat: extend every listed lock this owner still holds, in one call per node.
-- KEYS[1] node epoch marker; then for lock i: KEYS[i+1] lock record
-- ARGV[1] amnesia guard '1'|'0'  ARGV[2] record retention ms  ARGV[3] stale-after ms (for a re-claim);
--   then for lock i, six values from ARGV[4 + 6(i-1)]: token, ttl ms, fence, region, operation, correlation id
-- returns {epoch id, epoch age ms, r1, r2, ...}
--   r 1: extended  2: re-claimed (the record was absent, released or expired here, e.g. the node
--   restarted)  0: held by another owner
-- A re-claim only writes where nobody holds the lock, so it never displaces another owner, and it never
-- lowers the record's high-water fence. An extension also lifts a high-water fence below the lock's (a
-- node whose own grant was lower and that no raise round reached), so every node this owner holds
-- catches up with the fence within one heartbeat.
local now, t = cx_time()
local epoch, age = cx_epoch(KEYS[1], ARGV[1], now, t)
local retention = tonumber(ARGV[2])
local out = { epoch, age }
-- Every record in one read; a record this call wrote since (a lock listed twice) from `written`.
local records = #KEYS > 1 and redis.call('MGET', unpack(KEYS, 2)) or {}
local written = {}
for i = 1, #KEYS - 1 do
  local lock = KEYS[i + 1]
  local b = 4 + (i - 1) * 6
  local token, ttl = ARGV[b], ARGV[b + 1]
  local s = written[lock]
  if s == nil then s = records[i] end
  local exp, hw, p = cx_lock_of(s)
  if exp > now and cx_owns_at(s, p, token) then
    -- Keep high-water, token, fence and acquired-at; move expiry and heartbeat.
    local head, tail = string.match(s, '^%d+ (%d+ %S+ %d+ %d+ )%d+( .*)$')
    if hw < tonumber(ARGV[b + 2]) then
      head = ARGV[b + 2] .. ' ' .. token .. ' ' .. ARGV[b + 2] .. string.match(head, '^%d+ %S+ %d+( %d+ )$')
    end
    written[lock] = (now + ttl) .. ' ' .. head .. now .. tail
    redis.call('SET', lock, written[lock], 'PX', ttl + retention)
    out[#out + 1] = 1
  elseif exp <= now then
    local fence = tonumber(ARGV[b + 2])
    local record = cx_lock_pack(now + ttl, cx_int(math.max(hw, fence)), token, ARGV[b + 2], now, now, ARGV[3],
      ARGV[b + 3], ARGV[b + 4], ARGV[b + 5])
    -- XX over the record read, NX over one read as absent: a key of another type reads as absent too,
    -- is not ours, and NX leaves it alone.
    local set = redis.call('SET', lock, record, 'PX', ttl + retention, s and 'XX' or 'NX')
    if set then written[lock] = record end
    out[#out + 1] = set and 2 or 0
  else
    out[#out + 1] = 0
  end
end
return out
