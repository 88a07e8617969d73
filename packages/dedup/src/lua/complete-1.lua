--[[
  Turns the caller's processing lease into a done marker and wakes waiting losers.

  KEYS[1]  record key
  ARGV[1]  owner token
  ARGV[2]  owner label
  ARGV[3]  window in ms (how long the done marker is kept)
  ARGV[4]  result JSON, or '' for none
  ARGV[5]  '1' when ARGV[4] holds a result
  ARGV[6]  notification channel

  Returns {1, completedAt} when written (or written by this very call before its reply was lost); {0, state|false, owner|false} when another claimer holds or
  finished the record (the caller's lease lapsed and was taken over). A record that vanished entirely
  (lease and grace lapsed, nobody took over) is written, since no one else can be processing it.
]]
local rec = redis.call('HMGET', KEYS[1], 's', 't', 'o', 'c')
-- Done under this token: this call ran before (re-sent after a lost reply).
if rec[1] == 'd' and rec[2] == ARGV[1] then return {1, tonumber(rec[4])} end
if rec[1] and (rec[1] ~= 'p' or rec[2] ~= ARGV[1]) then
  return {0, rec[1], rec[3]}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[1])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 's', 'd', 't', ARGV[1], 'o', ARGV[2], 'c', now, 'r', ARGV[4])
else
  redis.call('HSET', KEYS[1], 's', 'd', 't', ARGV[1], 'o', ARGV[2], 'c', now)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
local message = {k = 'd', key = KEYS[1], o = ARGV[2], c = now}
if ARGV[5] == '1' then message.r = ARGV[4] end
redis.call('PUBLISH', ARGV[6], cjson.encode(message))
return {1, now}
