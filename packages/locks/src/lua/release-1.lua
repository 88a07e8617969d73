-- cxkit_locks release: delete the record if this owner still holds it, and wake waiters.
-- KEYS[1] lock record
-- ARGV[1] token  ARGV[2] release channel ('' to stay silent, e.g. cleanup of a failed round)  ARGV[3] resource name
-- returns 1: released  0: absent (expired)  -1: held by another owner (taken over)
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
if string.sub(s, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return -1 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
