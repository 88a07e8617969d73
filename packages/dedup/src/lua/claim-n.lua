--[[
  First-write-wins claim of one or more dedup records (all keys in one hash slot on a Cluster).

  KEYS[1..n]  record keys (hashes), one per message id
  ARGV[1]     token prefix; the token of KEYS[i] is ARGV[1] .. ':' .. i
  ARGV[2]     owner label stored for losers to see
  ARGV[3]     lease in ms (logical expiry, decided by this server's TIME)
  ARGV[4]     key TTL in ms while in progress (lease + grace, so a lapsed lease is still visible
              to the next claimer as a takeover)

  Returns an array with one entry per key:
    {1, token, leaseExpiresAt, now, previousOwner|false}   claimed (previousOwner: lapsed lease taken over)
    {2, owner, leaseRemainingMs, now}                      in progress under a live lease
    {3, owner, completedAt, result|false}                  done within the window
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local out = {}

for i, key in ipairs(KEYS) do
  local rec = redis.call('HMGET', key, 's', 'o', 'x', 'c', 'r')
  local state = rec[1]
  local previous = false
  if state == 'd' then
    out[i] = {3, rec[2], tonumber(rec[4]), rec[5]}
  elseif state == 'p' and tonumber(rec[3]) > now then
    out[i] = {2, rec[2], tonumber(rec[3]) - now, now}
  else
    if state == 'p' then previous = rec[2] end
    local token = ARGV[1] .. ':' .. i
    -- Every field of an in-progress record is overwritten, so a lapsed lease needs no DEL first.
    redis.call('HSET', key, 's', 'p', 't', token, 'o', ARGV[2], 'x', now + lease)
    redis.call('PEXPIRE', key, ttl)
    out[i] = {1, token, now + lease, now, previous}
  end
end
return out
