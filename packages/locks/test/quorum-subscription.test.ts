import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lock, LockManager } from '../src/index.js';
import { client, quit, sleep } from './helpers.js';

// A quorum's release publishes on one node only (the first that reports a waiter), so a waiter must be
// subscribed on every node, including those whose connection was not ready when it started waiting.
let redis: RedisNodes;
const clients: Redis[] = [];
const managers: LockManager[] = [];

beforeAll(async () => {
  redis = await startRedisNodes(3, { private: true });
});

afterAll(async () => {
  await Promise.all(redis?.nodes.filter((n) => n.paused).map((n) => n.resume()) ?? []);
  await Promise.all(managers.map((m) => m.close()));
  await quit(clients);
  await redis?.stop();
});

const channel = 'cxkit:locks:released:q:late-node';
const flag = 'cxkit:locks:{q:late-node}:waiters';
/** Subscribers of the release channel on node `i`. */
async function numsub(i: number): Promise<number> {
  const c = client(redis.urls[i]!);
  try {
    const [, count] = (await c.pubsub('NUMSUB', channel)) as [string, number];
    return count;
  } finally {
    c.disconnect();
  }
}

describe('a quorum waiter whose subscription some nodes refused at first', () => {
  it('subscribes there once their connections are ready, and hears a release published on them', async () => {
    // The offline queue off: a subscriber connection refuses SUBSCRIBE until it is ready.
    const strict = redis.urls.map((url) => {
      const c = new Redis(url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
      });
      c.on('error', () => {});
      return c;
    });
    const own = redis.urls.map(client);
    clients.push(...strict, ...own);
    await Promise.all(
      strict.map((c) => (c.status === 'ready' ? undefined : new Promise((r) => c.once('ready', r)))),
    );
    const options = { amnesiaGuard: false, retry: { minDelayMs: 8_000, maxDelayMs: 10_000 } } as const;
    const holder = new LockManager({ nodes: own, ...options });
    const waiting = new LockManager({ nodes: strict, requestTimeoutMs: 300, ...options });
    managers.push(holder, waiting);
    const held = await holder.acquire('q:late-node', { heartbeat: false });
    // Nodes 1 and 2 stalled: the waiter's subscriber connections to them (made at its first wait) stay
    // not ready, so only node 0 confirms the subscription.
    await Promise.all([redis.nodes[1]!.pause(), redis.nodes[2]!.pause()]);
    const granted = waiting
      .acquire('q:late-node', { waitMs: 8_000, heartbeat: false })
      .catch((e: Error) => e);
    await waitUntil('subscribed on node 0', async () => (await numsub(0)) === 1, 5_000, 50);
    await Promise.all([redis.nodes[1]!.resume(), redis.nodes[2]!.resume()]);
    await waitUntil(
      'subscribed on nodes 1 and 2',
      async () => (await numsub(1)) + (await numsub(2)) === 2,
      5_000,
      50,
    );
    // The waiter's attempt (run late on nodes 1 and 2) left the waiters flag there; without it on node 0,
    // the release publishes on node 1 or 2.
    await waitUntil('waiters flag on nodes 1 and 2', async () => {
      const [a, b] = await Promise.all([1, 2].map((i) => redis.nodes[i]!.command('EXISTS', flag)));
      return a === '1' && b === '1';
    });
    await redis.nodes[0]!.command('DEL', flag);
    await sleep(100);
    const released = performance.now();
    expect(await held.release()).toEqual({ released: true });
    const lock = await granted;
    // Woken by the release, not by its 8-10 s poll (nor its 8 s deadline).
    expect(lock).not.toBeInstanceOf(Error);
    expect(performance.now() - released).toBeLessThan(2_000);
    await (lock as Lock).release();
  });
});
