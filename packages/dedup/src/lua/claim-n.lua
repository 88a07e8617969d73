--[[
  First-write-wins claim of one or more dedup records (all keys in one hash slot on a Cluster).

  KEYS[1..n]  record keys (hashes), one per message id
  ARGV[1]     token prefix; the token of KEYS[i] is ARGV[1] .. ':' .. i
  ARGV[2]     owner label stored for losers to see
  ARGV[3]     lease in ms (logical expiry, decided by this server's TIME)
  ARGV[4]     key TTL in ms while in progress (lease + grace, so a lapsed lease is still visible
              to the next claimer as a takeover)

  Returns one flat array (no table per key: cheaper to build and to parse): the server time `now` in
  ms, then per key, in order, one of
    1, previousOwner|false               claimed; token ARGV[1]..':'..i, lease expires at now + ARGV[3]
                                         (previousOwner: a lapsed lease was taken over)
    2, owner, leaseRemainingMs           in progress under a live lease
    3, owner, completedAt, result|false  done within the window
    error reply                          the key holds a foreign type (WRONGTYPE); only that key
                                         fails, the other keys are still claimed
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expires = now + tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local prefix = ARGV[1] .. ':'
local owner = ARGV[2]
local out = {now}
local n = 1

for i, key in ipairs(KEYS) do
  -- pcall: one foreign key must not abort the keys already claimed before it in this call.
  local rec = redis.pcall('HMGET', key, 's', 'o', 'x', 'c', 'r', 't')
  local state = rec[1]
  -- Its own token: this call ran before (re-sent after a lost reply), so it is claimed again.
  local mine = rec[6] == prefix .. i
  if rec.err then
    out[n + 1] = rec
    n = n + 1
  elseif state == 'd' then
    out[n + 1] = 3
    out[n + 2] = rec[2]
    out[n + 3] = tonumber(rec[4]) or false -- never a nil: it would end the reply array here
    out[n + 4] = rec[5]
    n = n + 4
  elseif state == 'p' and not mine and tonumber(rec[3]) > now then
    out[n + 1] = 2
    out[n + 2] = rec[2]
    out[n + 3] = tonumber(rec[3]) - now
    n = n + 3
  else
    local previous = false
    if state == 'p' and not mine then previous = rec[2] end
    -- Every field of an in-progress record is overwritten, so a lapsed lease needs no DEL first.
    redis.call('HSET', key, 's', 'p', 't', prefix .. i, 'o', owner, 'x', expires)
    redis.call('PEXPIRE', key, ttl)
    out[n + 1] = 1
    out[n + 2] = previous
    n = n + 2
  end
end
return out
