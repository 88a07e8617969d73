--[[
  Saves one checkpoint of a session atomically: fence check, compare-and-set, next revision, bounded
  history, sliding TTL capped by a hard maximum age. Time comes from the server (TIME).

  The store puts the settings in front of this text as constants (see save-script.ts), so they cost
  no argument and no number conversion per call: HISTORY (newest checkpoints kept besides the first,
  1..1000), HISTORY_TEXT (the same as ' <HISTORY> '), TTL_MS (sliding TTL), MAX_AGE_MS (hard maximum
  age from the first save).

  KEYS[1] session hash (`<namespace>:{<sessionId>}`), fields:
          m      '<rev> <history> <born>[ <fence>]': revision counter, HISTORY of the last save, ms of
                 the first save, highest fence seen (absent until a save brings one)
          cur    the latest payload
          r:<n>  payload of revision n for every kept one: the first (r:1) and the newest <history>.
                 The latest is written twice (cur and r:<rev>) so that no save reads or moves a
                 payload, and `latest()` stays one HMGET.
          q:<n>, qn  quarantine (see quarantine-1.lua)
  ARGV[1] envelope JSON without revision/savedAt and without its opening '{' (prepended with them)
  ARGV[2] expected revision; absent or '' for none (0: the session must have no checkpoint)
  ARGV[3] fence; absent for none

  Returns {1, revision, savedAtMs} on success,
          {0, actualRevision} when ARGV[2] is stale,
          {-1, highestFence, actualRevision} when ARGV[3] is lower than the highest fence seen.
]]
-- Number <-> text conversions (strtod, sprintf) are a large share of this script: each value is
-- converted at most once, and texts read or built once are reused as they are.
local key = KEYS[1]
local t = redis.call('TIME')
local us = t[2]
local nowText = t[1] .. string.sub('00' .. (#us > 3 and string.sub(us, 1, -4) or '0'), -3)
local now = nowText + 0
local m = redis.call('HGET', key, 'm')
local revText, rev, kept, bornText, born, seen = '0', 0, HISTORY, nowText, now, ''
if m then
  local k
  revText, k, bornText, seen = string.match(m, '^(%d+) (%d+) (%d+) ?(%d*)')
  born = bornText + 0
  if born + MAX_AGE_MS <= now then
    -- Past its hard age the session is gone, exactly as if the key had expired a moment earlier.
    redis.call('DEL', key)
    revText, bornText, born, seen = '0', nowText, now, ''
  else
    rev = revText + 0
    kept = k + 0
  end
end

-- The fence is checked first: a stale holder must not learn it merely needs a fresher revision.
local fence = ARGV[3]
if fence and seen ~= '' and fence + 0 < seen + 0 then
  return { -1, seen + 0, rev }
end
-- Both texts are canonical integers, so comparing them as text is comparing the numbers.
local expected = ARGV[2]
if expected and expected ~= '' and expected ~= revText then
  return { 0, rev }
end

local nextRev = rev + 1
local nextText = string.format('%d', nextRev)
local payload = '{"revision":' .. nextText .. ',"savedAt":' .. nowText .. ',' .. ARGV[1]
-- The fence is kept as given: a Lua number prints in %.14g and would round a large one.
if fence then
  seen = ' ' .. fence
elseif seen ~= '' then
  seen = ' ' .. seen
end
redis.call('HSET', key, 'm', nextText .. HISTORY_TEXT .. bornText .. seen, 'cur', payload, 'r:' .. nextText, payload)

-- Revisions 2 .. rev-kept are gone already; now 2 .. nextRev-HISTORY go: one per save once the
-- window is full, none while it fills or after HISTORY was raised, several after it was lowered.
local from = rev - kept + 1
if from < 2 then
  from = 2
end
local to = nextRev - HISTORY
if from == to then
  redis.call('HDEL', key, 'r:' .. string.format('%d', to))
elseif from < to then
  local drop = {}
  for n = from, to do
    drop[n - from + 1] = 'r:' .. string.format('%d', n)
  end
  redis.call('HDEL', key, unpack(drop))
end

local expiry = now + TTL_MS
local deadline = born + MAX_AGE_MS
redis.call('PEXPIREAT', key, string.format('%d', expiry < deadline and expiry or deadline))
return { 1, nextRev, now }
