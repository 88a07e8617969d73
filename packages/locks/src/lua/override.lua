-- cxkit locks: stale-holder override (prepended to acquire; not a script on its own).
-- A record is stale when its last heartbeat, by this node's TIME, is older than stale_after ms and than
-- the holder's own stale-after (a holder that heartbeats on a slower schedule is judged by it).
-- The check and the replacement run in the same script, so a holder that heartbeats in between
-- is never replaced (the compare-and-swap is on the heartbeat age, per node).

local function cx_is_stale(holder, stale_after)
  return holder[8] > stale_after and holder[8] > holder[10]
end

-- Appends the override to the bounded audit stream: who was replaced, by whom, how stale it was and the
-- threshold it passed (`stale_ms`). `ttl` ms (0: none) is the stream's lifetime after this entry.
local function cx_audit(stream, max_len, ttl, resource, prev, stale_ms, token, region, operation, cid, fence, now)
  redis.call('XADD', stream, 'MAXLEN', '~', max_len, '*',
    'resource', resource,
    'prevToken', prev[1], 'prevRegion', prev[2], 'prevOperation', prev[3],
    'prevCorrelationId', prev[4], 'prevFence', prev[7], 'prevLastHeartbeat', prev[6],
    'heartbeatAgeMs', prev[8], 'staleAfterMs', stale_ms,
    'token', token, 'region', region, 'operation', operation, 'correlationId', cid,
    'fence', fence, 'at', now)
  if tonumber(ttl) > 0 then redis.call('PEXPIRE', stream, ttl) end
end
