--[[
  decide-3: records a failover away from a primary at most once per epoch (compare-and-set on the
  leader record), and only when a strict majority of the configured regions vote the primary down.
  KEYS[1]  leader hash: epoch, primary, from, decided_by, decided_at
  KEYS[2]  decisions hash: epoch -> JSON decision (history, trimmed to ARGV[4] entries)
  KEYS[3]  votes hash of ARGV[1] (written by vote-1; stale fields are ignored and removed)
  ARGV[1]  primary the caller believes is current
  ARGV[2]  candidate region to promote
  ARGV[3]  region asking
  ARGV[4]  history limit
  ARGV[5..] every configured region (the majority is over these, voting or not)
  returns  { code, epoch, primary, down, up, decision JSON or "" }
           code: "decided" (this call recorded the failover), "changed" (the primary is no longer
           ARGV[1]: decision JSON of the current epoch), "no-majority"
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
-- First use: the caller's view of the primary seeds epoch 0.
local current = redis.call('HGET', KEYS[1], 'primary') or ARGV[1]

local down, up = 0, 0
for i = 5, #ARGV do
  local v = redis.call('HGET', KEYS[3], ARGV[i])
  if v then
    local status, expires = string.match(v, '^(%a+):(%d+)$')
    if expires and tonumber(expires) > now then
      if status == 'down' then down = down + 1 else up = up + 1 end
    else
      redis.call('HDEL', KEYS[3], ARGV[i])
    end
  end
end

if current ~= ARGV[1] then
  return { 'changed', epoch, current, down, up, redis.call('HGET', KEYS[2], tostring(epoch)) or '' }
end
local regions = #ARGV - 4
if down * 2 <= regions then
  return { 'no-majority', epoch, current, down, up, '' }
end

epoch = epoch + 1
local decision = cjson.encode({
  epoch = epoch, from = ARGV[1], to = ARGV[2], decided_by = ARGV[3], decided_at = now,
  down = down, up = up, regions = regions,
})
redis.call('HSET', KEYS[1], 'epoch', epoch, 'primary', ARGV[2], 'from', ARGV[1], 'decided_by', ARGV[3], 'decided_at', now)
redis.call('HSET', KEYS[2], tostring(epoch), decision)
local limit = tonumber(ARGV[4])
if epoch > limit then redis.call('HDEL', KEYS[2], tostring(epoch - limit)) end
return { 'decided', epoch, ARGV[2], down, up, decision }
