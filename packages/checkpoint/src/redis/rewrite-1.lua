--[[
  Replaces the latest payload in place (write-back of an upcast checkpoint), only while it is still
  the latest: a save that happened in between wins.

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] revision the payload belongs to
  ARGV[2] new payload

  Returns 1 when replaced, 0 when the session moved on or is gone.
]]
local m = redis.call('HGET', KEYS[1], 'm')
if not m or string.match(m, '^%d+') ~= ARGV[1] then
  return 0
end
-- The latest lives in two fields (see save-1.lua); both change together.
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'r:' .. ARGV[1], ARGV[2])
return 1
