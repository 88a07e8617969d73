-- cxkit_locks raise: lift this node's fence counter to the fence a quorum resolved (quorum mode only),
-- so the next acquisition on any quorum sees a larger counter.
-- KEYS[1] lock record  KEYS[2] fence counter
-- ARGV[1] token  ARGV[2] fence
-- returns 1: the record is ours and carries the fence  0: counter raised, record not ours
local fence = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') < fence then redis.call('SET', KEYS[2], fence) end
if redis.call('HGET', KEYS[1], 'tok') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'fen', fence)
  return 1
end
return 0
