-- cxkit_locks raise: lift this node's high-water fence to the fence a quorum resolved (quorum mode only),
-- so the next acquisition on any quorum sees a larger one.
-- KEYS[1] lock record
-- ARGV[1] token  ARGV[2] fence  ARGV[3] record retention ms
-- returns 1: the record is ours and now carries the fence  0: high-water raised, record not ours
local s = redis.call('GET', KEYS[1])
local exp, hw, p = cx_lock_of(s)
local token, fence = ARGV[1], tonumber(ARGV[2])
local top = cx_int(math.max(hw, fence))
-- The record lives the rest of its lock's TTL plus the retention, as when it was written.
local px = math.max(exp - cx_now(), 0) + tonumber(ARGV[3])
if s and cx_owns_at(s, p, token) then
  local tail = string.match(s, '^%d+ %d+ %S+ %d+( .*)$')
  redis.call('SET', KEYS[1], exp .. ' ' .. top .. ' ' .. token .. ' ' .. cx_int(fence) .. tail, 'PX', px)
  return 1
end
if not s then
  redis.call('SET', KEYS[1], '0 ' .. top, 'PX', px)
elseif fence > hw then
  redis.call('SET', KEYS[1], exp .. ' ' .. top .. string.sub(s, p), 'PX', px)
end
return 0
