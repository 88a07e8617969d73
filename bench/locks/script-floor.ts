// The smallest script pair that keeps cxkit's guarantees for one master's acquire and release, with no
// library around it. The acquire reads the node's TIME and the record, takes a record that is absent,
// released or expired, and writes a record holding the owner's token, region, operation and
// correlation id, server-time expiry, acquired-at and heartbeat, and a fence above the record's
// high-water; the release checks the token and the expiry (TIME, so an expired lock answers "not
// released") and writes the record back as released, keeping the high-water. No amnesia marker (cxkit
// reads one in quorum mode only), no waiters flag, no stale-holder override, no audit, no batching.
// Its distance to the anchors (a plain SET NX PX and a compare-and-delete script) is what any design
// meeting those requirements pays on the server and the wire before it runs a line of client code. Its
// hand-off is one script that checks the releasing owner and writes the next one's grant, the least a
// lock handed over through its record can send.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Candidate } from './candidates.js';
import { TTL_MS } from './candidates.js';
import { takeTurns } from './turns.js';

const ACQUIRE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local s = redis.call('GET', KEYS[1])
local hw = 0
if s then
  local exp, high = string.match(s, '^(%d+) (%d+)')
  if tonumber(exp) > now then return 0 end
  hw = tonumber(high)
end
local fence = string.format('%.0f', math.max(hw + 1, t[1] * 1000000))
local record = (now + ARGV[2]) .. ' ' .. fence .. ' ' .. ARGV[1] .. ' ' .. now .. ' ' .. now .. ' ' .. ARGV[3]
if redis.call('SET', KEYS[1], record, 'PX', ARGV[2] + ARGV[4], s and 'XX' or 'NX') then return fence end
return 0`;

const RELEASE = `
local s = redis.call('GET', KEYS[1])
if not s then return 0 end
local exp, hw, token = string.match(s, '^(%d+) (%d+) (%S+)')
if token ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], '0 ' .. hw, 'KEEPTTL')
local t = redis.call('TIME')
if tonumber(exp) <= t[1] * 1000 + math.floor(t[2] / 1000) then return 0 end
return 1`;

const HAND_OFF = `
local t = redis.call('TIME')
local s = redis.call('GET', KEYS[1])
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local exp, hw, token = string.match(s or '', '^(%d+) (%d+) (%S+)')
if token ~= ARGV[1] or tonumber(exp) <= now then return 0 end
local fence = string.format('%.0f', math.max(hw + 1, t[1] * 1000000))
local record = (now + ARGV[3]) .. ' ' .. fence .. ' ' .. ARGV[2] .. ' ' .. now .. ' ' .. now .. ' ' .. ARGV[4]
redis.call('SET', KEYS[1], record, 'PX', ARGV[3] + ARGV[5])
return fence`;

/** Region, operation and correlation id, as a caller names its lock. */
const META = 'eu-west crm-update call-0c1f4d2a-7b9e-4f51-9d2e-3a8c6b1e5f70';
/** How long a released record keeps its high-water fence. */
const RETENTION_MS = 600_000;

export async function scriptFloor(url: string): Promise<Candidate> {
  const client = new Redis(url);
  const [acquire, release, handOff] = (await Promise.all(
    [ACQUIRE, RELEASE, HAND_OFF].map((lua) => client.script('LOAD', lua)),
  )) as [string, string, string];
  const grant = async (r: string, token: string) => {
    const granted = await client.evalsha(acquire, 1, r, token, TTL_MS, META, RETENTION_MS);
    if (granted === 0) throw new Error(`script floor: ${r} is held`);
  };
  const ungrant = async (r: string, token: string) => {
    if ((await client.evalsha(release, 1, r, token)) !== 1)
      throw new Error(`script floor: ${r} was not released`);
  };
  return {
    once: async (r) => {
      const token = randomUUID();
      await grant(r, token);
      await ungrant(r, token);
    },
    exclusive: takeTurns({
      acquire: grant,
      handOff: async (r, from, to) => {
        const granted = await client.evalsha(handOff, 1, r, from, to, TTL_MS, META, RETENTION_MS);
        if (granted === 0) throw new Error(`script floor: ${r} was not handed over`);
      },
      release: ungrant,
    }),
    close: () => client.quit().then(() => {}),
  };
}
