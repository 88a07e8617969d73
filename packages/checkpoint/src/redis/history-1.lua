--[[
  Reads retained checkpoints of a session, newest first.

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] limit (positive integer)

  Returns a flat array {revision1, payload1, revision2, payload2, ...}, newest first, the session's
  first checkpoint last while it is still kept; {} when the session has no checkpoint.
]]
local key = KEYS[1]
local m = redis.call('HMGET', key, 'rev', 'first', 'low', 'cur')
if not m[1] or not m[4] then
  return {}
end
local rev = tonumber(m[1])
local first = tonumber(m[2]) or rev
local low = tonumber(m[3]) or rev
local limit = tonumber(ARGV[1])
local out = { rev, m[4] }
local n = rev - 1
while #out < limit * 2 and n >= low do
  local payload = redis.call('HGET', key, 'r:' .. string.format('%d', n))
  if payload then
    out[#out + 1] = n
    out[#out + 1] = payload
  end
  n = n - 1
end
if #out < limit * 2 and first < low and first < rev then
  local payload = redis.call('HGET', key, 'r:' .. string.format('%d', first))
  if payload then
    out[#out + 1] = first
    out[#out + 1] = payload
  end
end
return out
