--[[
  Saves one checkpoint for each of one or more sessions, each atomically: fence check,
  compare-and-set, next revision, bounded history, sliding TTL capped by a hard maximum age. Time
  comes from the server (TIME, read once per call). Several sessions share a call when their saves
  were made in the same tick (see tick-pipeline.ts): the call's fixed cost is paid once for them.

  The store puts the settings in front of this text as constants (see save-script.ts), so they cost
  no argument and no number conversion per call: HISTORY (newest checkpoints kept besides the first,
  1..1000), HISTORY_TEXT (the same as ' <HISTORY> '), TTL_MS (sliding TTL), MAX_AGE_MS (hard maximum
  age from the first save).

  KEYS[i] session hash (`<namespace>:{<sessionId>}`), fields:
          m      '<rev> <history> <born>[ <fence>]': revision counter, HISTORY of the last save, ms of
                 the first save, highest fence seen (absent until a save brings one)
          cur    the latest payload
          r:<n>  payload of revision n for every kept one: the first (r:1) and the newest <history>.
                 The latest is written twice (cur and r:<rev>) so that no save reads or moves an
                 earlier payload, and `latest()` stays one HMGET. A save reads only cur, to
                 recognise itself there.
          q:<n>, qn  quarantine (see quarantine-1.lua)
  ARGV    s = #ARGV / #KEYS arguments per key (1 to 3), for KEYS[i] starting at ARGV[(i - 1) * s + 1]:
          1. envelope JSON without revision/savedAt and without its opening '{' (prepended with them)
          2. expected revision, '' for none (0: the session must have no checkpoint); absent if s < 2
          3. fence, '' for none; absent if s < 3

  Returns one reply per key, in order:
          {1, revision, savedAtMs} on success, also when the latest checkpoint is this save already
                 (re-sent after a lost reply): then with its revision and savedAt, nothing written,
          {0, actualRevision} when the expected revision is stale,
          {-1, highestFence, actualRevision} when the fence is lower than the highest fence seen,
          an error reply when a command failed for that key (the other keys are not affected).
]]
-- Number <-> text conversions (strtod, sprintf) are a large share of this script: each value is
-- converted at most once, and texts read or built once are reused as they are.
local t = redis.call('TIME')
local us = t[2]
local nowText = t[1] .. string.sub('00' .. (#us > 3 and string.sub(us, 1, -4) or '0'), -3)
local now = nowText + 0

local function save(key, body, expected, fence)
  local found = redis.call('HMGET', key, 'm', 'cur')
  local m = found[1]
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
      -- The latest checkpoint is this very save (same checkpointId and content): a client re-sent it
      -- after losing the reply, or the caller retried. It passed fence and revision checks when it was
      -- written, so it is answered as then, and written no second time.
      local cur = found[2]
      if cur then
        local savedText, at = string.match(cur, '^{"revision":%d+,"savedAt":(%d+),()')
        if at and #cur - at + 1 == #body and string.sub(cur, at) == body then
          return { 1, rev, savedText + 0 }
        end
      end
    end
  end

  -- The fence is checked first: a stale holder must not learn it merely needs a fresher revision.
  if fence == '' then
    fence = nil
  end
  if fence and seen ~= '' and fence + 0 < seen + 0 then
    return { -1, seen + 0, rev }
  end
  -- Both texts are canonical integers, so comparing them as text is comparing the numbers.
  if expected and expected ~= '' and expected ~= revText then
    return { 0, rev }
  end

  local nextRev = rev + 1
  local nextText = string.format('%d', nextRev)
  local payload = '{"revision":' .. nextText .. ',"savedAt":' .. nowText .. ',' .. body
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
end

local stride = #ARGV / #KEYS
local out = {}
for i = 1, #KEYS do
  local j = (i - 1) * stride
  local ok, reply = pcall(save, KEYS[i], ARGV[j + 1], stride > 1 and ARGV[j + 2], stride > 2 and ARGV[j + 3])
  if not ok then
    -- One session's failure (its key holds another type, ...) must not fail the other saves of the
    -- call: those callers would be told of an error for a save that was made.
    reply = redis.error_reply(type(reply) == 'table' and reply.err or tostring(reply))
  end
  out[i] = reply
end
return out
