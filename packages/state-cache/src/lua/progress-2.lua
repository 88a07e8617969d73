--[[
  Records how far a rebuild got in the source (or marks the namespace complete), fenced by the lease.
  The partition count is recorded with the first batch, so an instance with another count sees the
  half-built namespace as written in another layout instead of rebuilding it in its own.
  KEYS[1] lease key   KEYS[2] namespace meta hash
  ARGV[1] holder id   ARGV[2] offset ('' keeps the old one)   ARGV[3] generation ('' while in progress)
  ARGV[4] partition count
  returns 1 recorded, 0 the lease is held by someone else (the caller must stop),
  -1 the namespace holds another partition count (nothing recorded)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local stored = redis.call('HGET', KEYS[2], 'partitions')
if stored and stored ~= ARGV[4] then
  return -1
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], 'offset', ARGV[2])
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], 'gen', ARGV[3])
end
redis.call('HSET', KEYS[2], 'partitions', ARGV[4])
return 1
