-- cxkit_locks inspect: the holder of a lock as this node sees it (read-only apart from the epoch marker).
-- KEYS[1] lock record  KEYS[2] node epoch marker
-- ARGV[1] amnesia guard '1'|'0'
-- returns {epoch id, epoch age ms, holder...} (holder empty when free)
local now, t = cx_time()
local epoch, age = cx_epoch(KEYS[2], ARGV[1], now, t)
return cx_append({ epoch, age }, (cx_lock_holder(redis.call('GET', KEYS[1]), now)))
