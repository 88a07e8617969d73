--[[
  Replaces the latest payload in place (write-back of an upcast checkpoint), only while it is still
  the latest: a save that happened in between wins.

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] revision the payload belongs to
  ARGV[2] new payload

  Returns 1 when replaced, 0 when the session moved on or is gone.
]]
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'cur', ARGV[2])
return 1
