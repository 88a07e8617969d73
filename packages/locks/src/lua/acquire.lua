-- cxkit_locks acquire: for each listed lock, take it if free, or override it if its heartbeat is stale.
-- Many callers' acquisitions on one node share one call: TIME and the epoch marker are read once.
-- KEYS[1] override audit stream  KEYS[2] node epoch marker; then per lock i: KEYS[3i] lock record,
--   KEYS[3i+1] fence counter, KEYS[3i+2] waiters flag (set when a contender meets a live holder, so
--   only a contended release publishes)
-- ARGV[1] amnesia guard '1'|'0'  ARGV[2] epoch id to create if absent  ARGV[3] stale-after ms
-- ARGV[4] region  ARGV[5] audit stream max length; then per lock i, five values from ARGV[6 + 5(i-1)]:
--   token, ttl ms, operation, correlation id, resource name
-- returns {epoch id, epoch age ms, then per lock: status, fence, holder length (0 or 9), holder...}
--   status 1: granted  2: granted over a stale holder (holder = replaced one)
--   status 0: held by a live owner (holder = current one, fence 0)
-- Locks are taken in list order, so a resource listed twice is granted to the first entry only.
local now = cx_now()
-- With the guard on, the marker and the first record are read by one MGET.
local first, epoch, age
if ARGV[1] == '1' then
  local m = redis.call('MGET', KEYS[2], KEYS[3])
  first = m[2]
  epoch, age = cx_epoch_of(m[1], KEYS[2], ARGV[1], ARGV[2], now)
else
  first = redis.call('GET', KEYS[3])
  epoch, age = '', -1
end
local stale_after = tonumber(ARGV[3])
local out = { epoch, age }
for i = 1, (#KEYS - 2) / 3 do
  local lock, counter = KEYS[3 * i], KEYS[3 * i + 1]
  local b = 5 * i
  local token, ttl, operation, cid = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local s = first
  if i > 1 then s = redis.call('GET', lock) end
  local holder = cx_holder_of(lock, s, now)
  local n = #out
  if holder and holder[1] ~= token and not cx_is_stale(holder, stale_after) then
    redis.call('SET', KEYS[3 * i + 2], '1', 'PX', ttl)
    out[n + 1], out[n + 2], out[n + 3] = 0, 0, 9
    cx_append(out, holder)
  else
    local fence = redis.call('INCR', counter)
    redis.call('SET', lock, cx_pack(token, fence, now, now, ARGV[4], operation, cid), 'PX', ttl)
    if holder and holder[1] ~= token then
      cx_audit(KEYS[1], ARGV[5], ARGV[b + 5], holder, token, ARGV[4], operation, cid, fence, now)
      out[n + 1], out[n + 2], out[n + 3] = 2, fence, 9
      cx_append(out, holder)
    else
      out[n + 1], out[n + 2], out[n + 3] = 1, fence, 0
    end
  end
end
return out
