import { startLostReplyProxy, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockManager } from '../src/index.js';
import { oneMaster, sleep } from './helpers.js';

/**
 * A release (or hand-off) whose reply is lost: ioredis reconnects and runs the same call again, which
 * must answer as the first run did, not report the lock expired or taken over by the caller's own grant.
 */
const env = oneMaster(600);
let proxy: Awaited<ReturnType<typeof startLostReplyProxy>>;
let viaProxy: Redis;
let m: LockManager;

beforeEach(async () => {
  proxy = await startLostReplyProxy(Number(new URL(env.redis.urls[0]!).port));
  // ioredis defaults: after the reconnect it re-sends the commands left unanswered.
  viaProxy = new Redis(proxy.url);
  // Waiters wake by hand-off only: a fallback attempt on a loaded machine would add a script call to the
  // counts below.
  m = new LockManager({
    nodes: viaProxy,
    region: 'us-east-1',
    heartbeatIntervalMs: 100,
    staleAfterMs: 600,
    retry: { minDelayMs: 4_000, maxDelayMs: 4_000 },
  });
  // Scripts loaded (the hand-off's too), so each call below is one EVALSHA.
  const warm = await m.acquire('warm');
  const next = m.acquire('warm', { waitMs: 5_000 });
  await sleep(50);
  await warm.release();
  await (await next).release();
});

afterEach(async () => {
  await m.close();
  viaProxy.disconnect();
  await proxy.close();
});

const record = (resource: string) => env.clients[1]!.get(`cxkit:locks:{${resource}}`);

describe('a release whose reply is lost', () => {
  it('resolves { released: true }, and the record is released', async () => {
    const lock = await m.acquire('lost-release', { heartbeat: false });
    proxy.loseNextReply();
    expect(await lock.release()).toEqual({ released: true });
    expect((await record('lost-release'))?.startsWith('0 ')).toBe(true);
    // Released for real: another owner takes it at once, with a higher fence.
    const next = await env.manager.acquire('lost-release');
    expect(next.fence).toBeGreaterThan(lock.fence);
    await next.release();
  });

  it('of a lock that had expired still reports it expired', async () => {
    const lock = await m.acquire('lost-expired', { heartbeat: false, ttlMs: 300 });
    await sleep(400);
    proxy.loseNextReply();
    expect(await lock.release()).toEqual({ released: false, reason: 'expired' });
  });
});

describe('a hand-off whose reply is lost', () => {
  it("grants the waiter, with a higher fence, and answers the holder's release as unknown, not taken over", async () => {
    const holder = await m.acquire('lost-handoff', { heartbeat: false });
    const waiting = m.acquire('lost-handoff', { heartbeat: false, waitMs: 5_000 });
    // The waiter met the holder and listens for its release (the reply lost below must be the hand-off's,
    // not the subscription's, which goes through the proxy too).
    await waitUntil(
      'waiter subscribed',
      async () => {
        const [, n] = (await env.clients[1]!.pubsub('NUMSUB', 'cxkit:locks:released:lost-handoff')) as [
          string,
          number,
        ];
        return n > 0 && (await env.clients[1]!.exists('cxkit:locks:{lost-handoff}:waiters')) === 1;
      },
      5_000,
      10,
    );
    await sleep(50);
    const calls = async () =>
      Number(/cmdstat_evalsha:calls=(\d+)/.exec(await env.clients[1]!.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    proxy.loseNextReply();
    // What the first run answered for the release (in time or not) cannot be read back from the waiter's grant.
    expect(await holder.release()).toEqual({ released: false, reason: 'unreachable' });
    // The hand-off ran twice: the first run's reply was the one lost.
    expect((await calls()) - before).toBe(2);
    const waiter = await waiting;
    expect(waiter.fence).toBeGreaterThan(holder.fence);
    const [, , token, fence] = (await record('lost-handoff'))!.split(' ');
    expect(token).toBe(waiter.token);
    expect(fence).toBe(String(waiter.fence));
    expect(await waiter.release()).toEqual({ released: true });
  });
});
