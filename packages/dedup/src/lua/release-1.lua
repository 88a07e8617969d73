--[[
  Releases a processing lease by compare-and-delete on the owner token, so a redelivery or another
  pod can claim the message, and wakes waiting losers.

  KEYS[1]  record key
  ARGV[1]  owner token
  ARGV[2]  notification channel
  ARGV[3]  owner label (for the notification)

  Returns 1 when released, 0 when the lease was no longer the caller's (nothing changed).
]]
local rec = redis.call('HMGET', KEYS[1], 's', 't')
if rec[1] ~= 'p' or rec[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], cjson.encode({k = 'r', key = KEYS[1], o = ARGV[3]}))
return 1
