-- cxkit locks: helpers prepended to the scripts that need them (not a script on its own).
-- Record layout of a lock (hash): tok region op cid acq hb fen  (acq/hb are this node's TIME in ms).

-- This node's clock in ms: the only clock that judges expiry and staleness.
local function cx_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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

-- Current record as a flat array {tok, region, op, cid, acq, hb, fen, heartbeat age, pttl}, or nil.
local function cx_holder(key, now)
  local r = redis.call('HMGET', key, 'tok', 'reg', 'op', 'cid', 'acq', 'hb', 'fen')
  if not r[1] then return nil end
  return { r[1], r[2], r[3], r[4], tonumber(r[5]), tonumber(r[6]), tonumber(r[7]),
    now - tonumber(r[6]), redis.call('PTTL', key) }
end

local function cx_append(out, list)
  if list then
    for i = 1, #list do out[#out + 1] = list[i] end
  end
  return out
end
