-- cxkit_locks raise: lift this node's fence counter to the fence a quorum resolved (quorum mode only),
-- so the next acquisition on any quorum sees a larger counter.
-- KEYS[1] lock record  KEYS[2] fence counter
-- ARGV[1] token  ARGV[2] fence
-- returns 1: the record is ours and now carries the fence  0: counter raised, record not ours
local fence = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') < fence then redis.call('SET', KEYS[2], fence) end
local s = redis.call('GET', KEYS[1])
if s and string.sub(s, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
  local head, tail = string.match(s, '^(%S+ )%d+( .*)$')
  redis.call('SET', KEYS[1], head .. ARGV[2] .. tail, 'KEEPTTL')
  return 1
end
return 0
