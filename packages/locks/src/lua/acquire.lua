-- cxkit_locks acquire: for each listed lock, take it if free, or override it if its heartbeat is stale.
-- Many callers' acquisitions on one node share one call: TIME and the epoch marker are read once.
-- KEYS[1] override audit stream  KEYS[2] node epoch marker; then per lock i: KEYS[2i+1] lock record,
--   KEYS[2i+2] waiters flag (set when a contender meets a live holder, so only a contended release
--   publishes; it lives as long as the holder's lock has left, or the contender's TTL if longer)
-- ARGV[1] amnesia guard '1'|'0'  ARGV[2] stale-after ms (also written into a new record as its holder's)
--   ARGV[3] region  ARGV[4] audit stream max length
--   ARGV[5] record retention ms  ARGV[6] audit stream lifetime ms after an entry (0: none); then per
--   lock i, four values from ARGV[4i+3]: token, ttl ms, owner
--   metadata as the record ends ("<#region> <#operation> <#correlation id> <region><operation><id>",
--   lengths in bytes, built by the client), resource name
-- returns {epoch id, epoch age ms, then per lock: status, fence, holder length (0 or CX_HOLDER), holder...}
--   status 1: granted  2: granted over a stale holder (holder = replaced one)
--   status 0: held by a live owner (holder = current one, fence 0)
--   status -2: the record is in another layout (fence 0, no holder); left as it is, the batch goes on
-- The fence is the record's high-water fence + 1, or this node's second x 10^6 if larger. Locks are
-- taken in list order, so a resource listed twice is granted to the first entry only (the records of
-- locks 2..n are read in one MGET, a record written since from this call's own writes). A new record
-- lives the lock's TTL plus the retention (a release keeps that TTL).
-- TIME, the marker and the first record as acquire-head.lua read them (one MGET with the guard on).
local now, t, first = cx_head_now, cx_head_t, cx_head_first
local epoch, age = '', -1
if ARGV[1] == '1' then epoch, age = cx_epoch_of(cx_head_marker, KEYS[2], '1', now, t) end
local stale_after = tonumber(ARGV[2])
local region = ARGV[3]
local retention = tonumber(ARGV[5])
-- Numbers become strings once per call, not per lock: Lua formats each with sprintf.
local now_digits = tostring(now)
local expiry_of = {}
local out = { epoch, age }
local count = (#KEYS - 2) / 2
-- The other records in one read; a record this call wrote since (the same resource listed twice) is
-- read from `written`, so a later entry sees the earlier grant.
local rest, written = {}, {}
if count > 1 then
  local names = {}
  for i = 2, count do names[i - 1] = KEYS[2 * i + 1] end
  rest = redis.call('MGET', unpack(names))
end
for i = 1, count do
  local lock = KEYS[2 * i + 1]
  local b = 4 * i + 3
  local token, ttl, meta = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local s = first
  if i > 1 then
    s = written[lock]
    if s == nil then s = rest[i - 1] or nil end
  end
  local holder, hw = nil, 0
  local foreign = s and not cx_is_record(s)
  if s and not foreign then holder, hw = cx_lock_holder(s, now, true) end
  local n = #out
  if foreign then
    out[n + 1], out[n + 2], out[n + 3] = -2, 0, 0
  elseif holder and holder[1] ~= token and not cx_is_stale(holder, stale_after) then
    -- The flag lives as long as the holder's lock may (or the contender's TTL, if longer): a waiter that
    -- polls less often than its own TTL is still woken by the release.
    redis.call('SET', KEYS[2 * i + 2], '1', 'PX', math.max(tonumber(ttl), holder[9]))
    out[n + 1], out[n + 2], out[n + 3] = 0, 0, CX_HOLDER
    cx_append(out, holder)
  else
    local fence, digits = cx_grant_fence(hw, t)
    local expiry = expiry_of[ttl]
    if not expiry then
      expiry = { tostring(now + ttl), ttl + retention }
      expiry_of[ttl] = expiry
    end
    local record = cx_grant_record(expiry[1], digits, token, now_digits, ARGV[2], meta)
    -- XX over the record read (it exists), NX over one read as absent: a key of another type reads as
    -- absent too, and NX leaves it alone.
    local set = redis.call('SET', lock, record, 'PX', expiry[2], s and 'XX' or 'NX')
    if set then written[lock] = record end
    if not set then
      out[n + 1], out[n + 2], out[n + 3] = -2, 0, 0
    elseif holder and holder[1] ~= token then
      local _, operation, cid = cx_meta(meta)
      local stale_ms = math.max(stale_after, holder[10])
      cx_audit(KEYS[1], ARGV[4], ARGV[6], ARGV[b + 3], holder, stale_ms, token, region, operation, cid, fence, now)
      out[n + 1], out[n + 2], out[n + 3] = 2, fence, CX_HOLDER
      cx_append(out, holder)
    else
      out[n + 1], out[n + 2], out[n + 3] = 1, fence, 0
    end
  end
end
return out
