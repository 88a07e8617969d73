-- cxkit locks: helpers prepended to the scripts that need them (not a script on its own).
-- A lock record is one string, so a write is one SET ... PX and a read one GET:
--   "<token> <fence> <acquired ms> <heartbeat ms> <#region> <#operation> <#correlation id> <region><operation><correlation id>"
-- (acquired/heartbeat are this node's TIME in ms; the three free-text fields are length-prefixed).

-- This node's clock in ms: the only clock that judges expiry and staleness.
local function cx_now()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

-- Data-generation marker of this node, one string "<id> <created ms>": created on first use after the
-- node started without data, so its age tells a caller whether the node may have forgotten locks.
-- `raw` is the marker as read (GET, or MGET together with a record). Returns id, age in ms.
local function cx_epoch_of(raw, key, guard, new_id, now)
  if guard ~= '1' then return '', -1 end
  if not raw then
    redis.call('SET', key, new_id .. ' ' .. now)
    return new_id, 0
  end
  local id, at = string.match(raw, '^(%S+) (%d+)$')
  return id, now - tonumber(at)
end

local function cx_epoch(key, guard, new_id, now)
  if guard ~= '1' then return '', -1 end
  return cx_epoch_of(redis.call('GET', key), key, guard, new_id, now)
end

local function cx_pack(token, fence, acquired, heartbeat, region, operation, cid)
  return token .. ' ' .. fence .. ' ' .. acquired .. ' ' .. heartbeat .. ' ' .. #region .. ' ' .. #operation
    .. ' ' .. #cid .. ' ' .. region .. operation .. cid
end

-- True when record string `s` belongs to `token`.
local function cx_owns(s, token)
  return string.sub(s, 1, #token + 1) == token .. ' '
end

-- Record string as a flat array {token, region, op, cid, acquired, heartbeat, fence, heartbeat age, ttl left}.
local function cx_parse(s, now, ttl_left)
  local tok, fen, acq, hb, rl, ol, p = string.match(s, '^(%S+) (%d+) (%d+) (%d+) (%d+) (%d+) %d+ ()')
  rl, ol = tonumber(rl), tonumber(ol)
  return { tok, string.sub(s, p, p + rl - 1), string.sub(s, p + rl, p + rl + ol - 1), string.sub(s, p + rl + ol),
    tonumber(acq), tonumber(hb), tonumber(fen), now - tonumber(hb), ttl_left or -1 }
end

-- Lock record `s` (as read from `key`) as cx_parse does, or nil when there is none.
local function cx_holder_of(key, s, now)
  if not s then return nil end
  return cx_parse(s, now, redis.call('PTTL', key))
end

-- Current lock record of `key` as cx_parse does, or nil.
local function cx_holder(key, now)
  return cx_holder_of(key, redis.call('GET', key), now)
end

local function cx_append(out, list)
  if list then
    for i = 1, #list do out[#out + 1] = list[i] end
  end
  return out
end
