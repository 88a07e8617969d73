-- cxkit locks: helpers prepended to the scripts that need them (not a script on its own).
-- A lock record is one string, so a write is one SET ... PX and a read one GET:
--   "<token> <fence> <acquired ms> <heartbeat ms> <#region> <#operation> <#correlation id> <region><operation><correlation id>"
-- (acquired/heartbeat are this node's TIME in ms; the three free-text fields are length-prefixed).

-- This node's clock in ms: the only clock that judges expiry and staleness.
local function cx_now()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

-- Data-generation marker of this node: created on first use after the node started without data,
-- so its age tells a caller whether the node may have forgotten locks. Returns id, age in ms.
local function cx_epoch(key, guard, new_id, now)
  if guard ~= '1' then return '', -1 end
  local e = redis.call('HMGET', key, 'id', 'at')
  if not e[1] then
    redis.call('HSET', key, 'id', new_id, 'at', now)
    return new_id, 0
  end
  return e[1], now - tonumber(e[2])
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

-- Current lock record of `key` as cx_parse does, or nil.
local function cx_holder(key, now)
  local s = redis.call('GET', key)
  if not s then return nil end
  return cx_parse(s, now, redis.call('PTTL', key))
end

local function cx_append(out, list)
  if list then
    for i = 1, #list do out[#out + 1] = list[i] end
  end
  return out
end
