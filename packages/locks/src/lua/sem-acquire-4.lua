-- cxkit_locks semaphore acquire: take one of `limit` permits; permits whose holder stopped heartbeating
-- are reclaimed first (and audited).
-- KEYS[1] holders (zset: token -> deadline, server ms)  KEYS[2] holder records (hash: token -> record)
-- KEYS[3] fence counter  KEYS[4] override audit stream
-- ARGV[1] token  ARGV[2] validity ms (min(ttl, stale-after))  ARGV[3] limit  ARGV[4] region  ARGV[5] operation
-- ARGV[6] correlation id  ARGV[7] audit stream max length  ARGV[8] semaphore name  ARGV[9] key lifetime ms
-- ARGV[10] fence counter lifetime ms (key lifetime + record retention)  ARGV[11] audit stream lifetime ms
-- returns {status, fence, holders, oldest holder...}
--   status 1: granted (or already held by this token: its fence, nothing written)  0: all permits held
--   (holder = the one whose deadline comes first); then
--   per reclaimed permit CX_HOLDER more values (its holder) after a 0 separator (a permit's stale-after is its
--   validity: the sorted set's deadlines judge it)
local now, t = cx_time()
-- This token already holds a live permit: a repeat of the call that granted it (ioredis re-sends a call
-- whose reply was lost). Answered as the first run was, with the permit's fence; nothing changes.
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1])
if mine and tonumber(mine) > now then
  local fence = string.match(redis.call('HGET', KEYS[2], ARGV[1]) or '', '^%S+ (%d+) ')
  if fence then return { 1, fence, redis.call('ZCARD', KEYS[1]) } end
end
local reclaimed = {}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  local s = redis.call('HGET', KEYS[2], token)
  redis.call('ZREM', KEYS[1], token)
  redis.call('HDEL', KEYS[2], token)
  -- This token's own expired permit (a late repeat) is no other holder's: not an override.
  if s and token ~= ARGV[1] then cx_append(reclaimed, cx_parse(s, now)) end
end
-- Each reclaimed permit is audited with the fence of the permit granted in its place (0: none was, the
-- permits are still all held, e.g. by managers configured with a lower limit).
local function audit(fence)
  for i = 1, #reclaimed, CX_HOLDER do
    local h = { unpack(reclaimed, i, i + CX_HOLDER - 1) }
    cx_audit(KEYS[4], ARGV[7], ARGV[11], ARGV[8], h, h[10], ARGV[1], ARGV[4], ARGV[5], ARGV[6], fence, now)
  end
end
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then
  audit(0)
  local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  local out = { 0, 0, count }
  local s = first and redis.call('HGET', KEYS[2], first)
  if s then cx_append(out, cx_parse(s, now)) end
  return out
end
-- Like a lock record's fence: the counter may expire, and then restarts from the node's clock.
local fence, digits = cx_grant_fence(tonumber(redis.call('GET', KEYS[3]) or '0'), t)
redis.call('SET', KEYS[3], digits, 'PX', ARGV[10])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cx_pack(ARGV[1], digits, now, now, ARGV[2], ARGV[4], ARGV[5], ARGV[6]))
redis.call('PEXPIRE', KEYS[1], ARGV[9])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
audit(digits)
local out = { 1, fence, count + 1 }
if #reclaimed > 0 then
  out[#out + 1] = 0
  cx_append(out, reclaimed)
end
return out
