-- cxkit locks: helpers prepended to the scripts that need them (not a script on its own).
-- A lock record is one string, so a write is one SET and a read one GET:
--   "<expires ms> <high-water fence> <token> <fence> <acquired ms> <heartbeat ms> <stale-after ms>
--    <#region> <#operation> <#correlation id> <region><operation><correlation id>"
-- and "0 <high-water fence>" once released. The record outlives its holder by the retention (its Redis
-- TTL is the lock's TTL plus the retention), so the fence counter lives in it (no second key, no INCR);
-- expiry and heartbeat times are this node's TIME in ms, so only the server clock judges them. The
-- three free-text fields are length-prefixed. The stale-after is the writer's own: a contender judges
-- staleness by the longer of it and its own, so managers configured differently never override a holder
-- that heartbeats on its (slower) schedule.

-- This node's clock in ms, and the raw TIME pair (seconds, microseconds).
local function cx_time()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000), t
end

local function cx_now()
  return (cx_time())
end

-- Data-generation marker of this node, one string "<id> <created ms>": created on first use after the
-- node started without data (its id is the TIME of that moment), so its age tells a caller whether the
-- node may have forgotten locks. `raw` is the marker as read (GET, or MGET together with a record).
-- Returns id, age in ms.
local function cx_epoch_of(raw, key, guard, now, t)
  if guard ~= '1' then return '', -1 end
  if not raw then
    local id = t[1] .. '.' .. t[2]
    redis.call('SET', key, id .. ' ' .. now)
    return id, 0
  end
  local sp = string.find(raw, ' ', 1, true)
  return string.sub(raw, 1, sp - 1), now - tonumber(string.sub(raw, sp + 1))
end

local function cx_epoch(key, guard, now, t)
  if guard ~= '1' then return '', -1 end
  return cx_epoch_of(redis.call('GET', key), key, guard, now, t)
end

-- An integer as digits: Lua's own formatting ('%.14g') would shorten a fence of 16 digits.
local function cx_int(n)
  return string.format('%.0f', n)
end

-- `fence` (and `hw` below) as digits: cx_int of a number, or a fence as the client sent it.
local function cx_pack(token, fence, acquired, heartbeat, stale, region, operation, cid)
  return token .. ' ' .. fence .. ' ' .. acquired .. ' ' .. heartbeat .. ' ' .. stale .. ' ' .. #region .. ' '
    .. #operation .. ' ' .. #cid .. ' ' .. region .. operation .. cid
end

-- Region, operation and correlation id from the owner metadata that ends a record (see above).
local function cx_meta(meta)
  local rl, ol, p = string.match(meta, '^(%d+) (%d+) %d+ ()')
  rl, ol = tonumber(rl), tonumber(ol)
  return string.sub(meta, p, p + rl - 1), string.sub(meta, p + rl, p + rl + ol - 1), string.sub(meta, p + rl + ol)
end

-- Record string as a flat array {token, region, op, cid, acquired, heartbeat, fence, heartbeat age, ttl left,
-- stale-after} (CX_HOLDER values).
-- A record in another layout (a semaphore permit an older version wrote) reads as its token alone.
local function cx_parse(s, now, ttl_left)
  local tok, fen, acq, hb, st, rl, ol, p = string.match(s, '^(%S+) (%d+) (%d+) (%d+) (%d+) (%d+) (%d+) %d+ ()')
  if not p then return { string.match(s, '^%S*'), '', '', '', 0, 0, 0, 0, ttl_left or -1, 0 } end
  rl, ol = tonumber(rl), tonumber(ol)
  return { tok, string.sub(s, p, p + rl - 1), string.sub(s, p + rl, p + rl + ol - 1), string.sub(s, p + rl + ol),
    tonumber(acq), tonumber(hb), tonumber(fen), now - tonumber(hb), ttl_left or -1, tonumber(st) }
end

-- True when `s` is a lock record of this layout: released ("<expires> <high-water>") or held, with every
-- numeric field of the holder in place. Anything else is another layout's (or a damaged) record.
local function cx_is_record(s)
  return string.find(s, '^%d+ %d+ %S+ %d+ %d+ %d+ %d+ %d+ %d+ %d+ ') ~= nil or string.find(s, '^%d+ %d+$') ~= nil
end

-- Expiry, high-water fence and the offset just before the holder part of lock record `s` (0, 0 when
-- absent). Another layout's record fails the call, unless the caller has `checked` it already.
local function cx_lock_of(s, checked)
  if not s then return 0, 0, 0 end
  if not checked and not cx_is_record(s) then
    error({ err = 'CXKIT_LAYOUT lock record in another layout (written by another cxkit version?): use a new prefix' })
  end
  local exp, hw, p = string.match(s, '^(%d+) (%d+)()')
  return tonumber(exp), tonumber(hw), p
end

-- True when the holder part of record `s` (after offset `p`) belongs to `token`.
local function cx_owns_at(s, p, token)
  return string.sub(s, p + 1, p + #token + 1) == token .. ' '
end

-- The live holder of lock record `s` as cx_parse does (nil when absent, released or expired), and the
-- record's high-water fence.
local function cx_lock_holder(s, now, checked)
  local exp, hw, p = cx_lock_of(s, checked)
  if exp <= now then return nil, hw end
  return cx_parse(string.sub(s, p + 1), now, exp - now), hw
end

local function cx_lock_pack(expires, hw, token, fence, acquired, heartbeat, stale, region, operation, cid)
  return expires .. ' ' .. hw .. ' ' .. cx_pack(token, fence, acquired, heartbeat, stale, region, operation, cid)
end

-- Number of values cx_parse returns (the client reads a holder as this many).
local CX_HOLDER = 10

local function cx_append(out, list)
  if list then
    for i = 1, #list do out[#out + 1] = list[i] end
  end
  return out
end
