-- cxkit locks: the fence and the record of a new grant (prepended to the scripts that grant; not a script
-- on its own), so the acquire and the hand-off write the same record. Needs nothing from common.lua.

-- Fence floor of a grant, whose fence is max(high-water fence + 1, floor): this node's current second
-- times 10^6, as a number and as digits (built from TIME's own string, no formatting). A record removed
-- after its retention restarts above every fence it handed out (while node clocks agree within the
-- retention, and fewer than a million grants a second), and nodes that never saw the resource agree on
-- one fence within the second, so they need no raise round.
local function cx_fence_floor(t)
  return tonumber(t[1]) * 1000000, t[1] .. '000000'
end

-- The fence of a grant over high-water fence `hw` (a number) at TIME `t`, as a number and as digits
-- ('%.0f': Lua's own '%.14g' would shorten a fence of 16 digits; not '%d', which casts to a C long,
-- 32 bits on some builds).
local function cx_grant_fence(hw, t)
  local floor, floor_digits = cx_fence_floor(t)
  if hw >= floor then return hw + 1, string.format('%.0f', hw + 1) end
  return floor, floor_digits
end

-- A new holder's record (layout in common.lua): acquired and last heartbeat are both `now_digits`,
-- `meta` the owner metadata as the client built it.
local function cx_grant_record(expires, digits, token, now_digits, stale, meta)
  return expires .. ' ' .. digits .. ' ' .. token .. ' ' .. digits .. ' ' .. now_digits .. ' ' .. now_digits
    .. ' ' .. stale .. ' ' .. meta
end
