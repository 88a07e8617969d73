--[[
  Reads a record's state without claiming it (used by waiting losers).

  KEYS[1]  record key

  Returns {0} absent; {2, owner, leaseRemainingMs} in progress (remaining <= 0: the lease lapsed);
  {3, owner, completedAt, result|false} done.
]]
local rec = redis.call('HMGET', KEYS[1], 's', 'o', 'x', 'c', 'r')
if rec[1] == 'd' then return {3, rec[2], tonumber(rec[4]), rec[5]} end
if rec[1] ~= 'p' then return {0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {2, rec[2], tonumber(rec[3]) - now}
