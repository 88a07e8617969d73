-- cxkit_locks acquire: take a free lock, or override one whose heartbeat is stale.
-- KEYS[1] lock record  KEYS[2] fence counter  KEYS[3] override audit stream  KEYS[4] node epoch marker
-- KEYS[5] waiters flag (set when a contender meets a live holder, so only a contended release publishes)
-- ARGV[1] token  ARGV[2] ttl ms  ARGV[3] stale-after ms  ARGV[4] region  ARGV[5] operation
-- ARGV[6] correlation id  ARGV[7] amnesia guard '1'|'0'  ARGV[8] epoch id to create if absent
-- ARGV[9] audit stream max length  ARGV[10] resource name
-- returns {status, fence, epoch id, epoch age ms, holder...}
--   status 1: granted (holder empty)  2: granted over a stale holder (holder = replaced one)
--   status 0: held by a live owner (holder = current one, fence 0)
local now = cx_now()
local epoch, age = cx_epoch(KEYS[4], ARGV[7], ARGV[8], now)
local holder = cx_holder(KEYS[1], now)
local status = 1
if holder and holder[1] ~= ARGV[1] then
  if not cx_is_stale(holder, tonumber(ARGV[3])) then
    redis.call('SET', KEYS[5], '1', 'PX', ARGV[2])
    return cx_append({ 0, 0, epoch, age }, holder)
  end
  status = 2
end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], cx_pack(ARGV[1], fence, now, now, ARGV[4], ARGV[5], ARGV[6]), 'PX', ARGV[2])
if status == 2 then
  cx_audit(KEYS[3], ARGV[9], ARGV[10], holder, ARGV[1], ARGV[4], ARGV[5], ARGV[6], fence, now)
  return cx_append({ 2, fence, epoch, age }, holder)
end
return { 1, fence, epoch, age }
