--[[
  First-write-wins claim of one dedup record (the single-id fast path of claim-n.lua: no loop, no
  nested reply, token made by the caller).

  KEYS[1]  record key (hash)
  ARGV[1]  owner token
  ARGV[2]  owner label stored for losers to see
  ARGV[3]  lease in ms (logical expiry, decided by this server's TIME)
  ARGV[4]  key TTL in ms while in progress (lease + grace)

  Returns the same entry shape as claim-n.lua:
    {1, token, leaseExpiresAt, now, previousOwner|false}   claimed
    {2, owner, leaseRemainingMs, now}                      in progress under a live lease
    {3, owner, completedAt, result|false}                  done within the window
]]
local rec = redis.call('HMGET', KEYS[1], 's', 'o', 'x', 'c', 'r', 't')
local state = rec[1]
if state == 'd' then return {3, rec[2], tonumber(rec[4]), rec[5]} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- A record under this very token is this claim run before (a client re-sends a call whose reply was
-- lost): claimed again, with a fresh lease, instead of "in progress" under its own owner.
local mine = rec[6] == ARGV[1]
if state == 'p' and not mine and tonumber(rec[3]) > now then return {2, rec[2], tonumber(rec[3]) - now, now} end
local previous = false
if state == 'p' and not mine then previous = rec[2] end
local expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 's', 'p', 't', ARGV[1], 'o', ARGV[2], 'x', expires)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, ARGV[1], expires, now, previous}
