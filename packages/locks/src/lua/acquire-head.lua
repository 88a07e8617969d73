-- cxkit_locks acquire, head (after grant.lua, before the shared helpers; not a script on its own): reads
-- TIME, the epoch marker and the first record, and grants the common case at once, before any helper
-- closure or per-call table is built (a node woken from idle pays for each): one lock whose record is
-- absent or released, with a well-formed marker (or the guard off). Record, fence and reply are those
-- of the loop in acquire.lua, which handles every other case with what was read here.
local cx_head_t = redis.call('TIME')
local cx_head_now = cx_head_t[1] * 1000 + math.floor(cx_head_t[2] / 1000)
local cx_head_marker, cx_head_first
if ARGV[1] == '1' then
  local m = redis.call('MGET', KEYS[2], KEYS[3])
  cx_head_marker, cx_head_first = m[1], m[2]
else
  -- MGET, not GET: a key of another type reads as absent (false) instead of failing the whole batch;
  -- every write over a record read as absent is then `NX`, so such a key is never overwritten.
  cx_head_first = redis.call('MGET', KEYS[3])[1]
end
if #KEYS == 4 then
  -- Absent: high-water 0. Released ("0 <high-water>"): its high-water. Anything else: the loop.
  local hw = 0
  if cx_head_first then hw = tonumber(string.match(cx_head_first, '^0 (%d+)$')) end
  local epoch, created = '', nil
  if ARGV[1] == '1' then epoch, created = string.match(cx_head_marker or '', '^(%S+) (%d+)$') end
  if hw and epoch then
    local fence, digits = cx_grant_fence(hw, cx_head_t)
    local ttl = tonumber(ARGV[8])
    local now_digits = tostring(cx_head_now)
    local record = cx_grant_record(tostring(cx_head_now + ttl), digits, ARGV[7], now_digits, ARGV[2], ARGV[9])
    -- XX over the record read, NX over one read as absent (not set: a key of another type, which the
    -- loop reports as another layout).
    if redis.call('SET', KEYS[3], record, 'PX', ttl + tonumber(ARGV[5]), cx_head_first and 'XX' or 'NX') then
      return { epoch, created and cx_head_now - tonumber(created) or -1, 1, fence, 0 }
    end
  end
end
