--[[
  Reads retained checkpoints of a session, newest first.

  KEYS[1] session hash (see save-1.lua)
  ARGV[1] limit (positive integer)

  Returns a flat array {revision1, payload1, revision2, payload2, ...}, newest first, the session's
  first checkpoint last while it is still kept; {} when the session has no checkpoint.
]]
local key = KEYS[1]
local m = redis.call('HGET', key, 'm')
if not m then
  return {}
end
local rev, kept = string.match(m, '^(%d+) (%d+)')
rev = tonumber(rev)
-- The window of the last save: the newest `kept` revisions, then the first one below them.
local low = math.max(rev - tonumber(kept) + 1, 1)
local limit = tonumber(ARGV[1])
local out = {}
local found = 0
local n = rev
-- Fields of the window may be missing (below the oldest kept after `history` was raised): read in
-- chunks of what is still needed, usually one.
while found < limit and n >= low do
  local revisions, fields = {}, {}
  while #fields < limit - found and n >= low do
    revisions[#revisions + 1] = n
    fields[#fields + 1] = 'r:' .. string.format('%d', n)
    n = n - 1
  end
  local payloads = redis.call('HMGET', key, unpack(fields))
  for i = 1, #fields do
    if payloads[i] then
      out[#out + 1] = revisions[i]
      out[#out + 1] = payloads[i]
      found = found + 1
    end
  end
end
if found < limit and low > 1 then
  local payload = redis.call('HGET', key, 'r:1')
  if payload then
    out[#out + 1] = 1
    out[#out + 1] = payload
  end
end
return out
