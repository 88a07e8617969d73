-- cxkit_locks semaphore release: give back this owner's permit and wake one waiter.
-- KEYS[1] holders (zset)  KEYS[2] holder records (hash)
-- ARGV[1] token  ARGV[2] release channel  ARGV[3] semaphore name
-- returns 1: released  0: not held any more (expired and reclaimed)
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
