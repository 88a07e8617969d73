--[[
  Replaces the latest payload in place (write-back of an upcast checkpoint), only while it is still
  exactly the payload that was read and upcast: a save in between wins, and so does a new session
  whose first revision carries the same number (after delete(), expiry or the maximum age).

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] revision the payload belongs to
  ARGV[2] new payload
  ARGV[3] the payload as read

  Returns 1 when replaced, 0 when the session moved on or is gone.
]]
local found = redis.call('HMGET', KEYS[1], 'm', 'cur')
if not found[1] or string.match(found[1], '^%d+') ~= ARGV[1] or found[2] ~= ARGV[3] then
  return 0
end
-- The latest lives in two fields (see save-1.lua); both change together.
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'r:' .. ARGV[1], ARGV[2])
return 1
