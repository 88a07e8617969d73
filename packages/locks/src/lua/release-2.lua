-- cxkit_locks release: delete the record if this owner still holds it, and report (or wake) waiters.
-- KEYS[1] lock record  KEYS[2] waiters flag (set by the acquire script when a contender met this lock)
-- ARGV[1] token  ARGV[2] release channel ('' to stay silent, e.g. cleanup of a failed round)
-- ARGV[3] resource name  ARGV[4] '1' to PUBLISH here when someone waited, '0' to only report it
-- returns 1: released, nobody waited  2: released and a contender waited  0: absent (expired)
--   -1: held by another owner (taken over)
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
if string.sub(s, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return -1 end
redis.call('DEL', KEYS[1])
-- A release publishes only while the flag lives (a contender met this lock within its TTL); the flag is
-- not consumed, so every waiter still queued behind the next holder is woken by its release too.
if ARGV[2] == '' or redis.call('EXISTS', KEYS[2]) == 0 then return 1 end
if ARGV[4] == '1' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 2
