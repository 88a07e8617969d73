import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptClient } from '../src/client.js';
import { type Lock, LockManager } from '../src/index.js';
import { ReleaseNotifier } from '../src/notifier.js';
import { client, quit, sleep } from './helpers.js';

// Release channels: a quorum's release publishes on one node only (the first that reports a waiter), so
// a waiter must be subscribed on every node, including those whose connection was not ready when it
// started waiting, and again after a reconnect whatever the client's own resubscription does.
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
/** Subscribers of release channel `name` on node `i`. */
async function numsub(i: number, name = channel): Promise<number> {
  const c = client(redis.urls[i]!);
  try {
    const [, count] = (await c.pubsub('NUMSUB', name)) as [string, number];
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

describe('a release channel', () => {
  it('is subscribed again after a reconnect when the client does not resubscribe (autoResubscribe: false)', async () => {
    const own = new Redis(redis.urls[0]!, { autoResubscribe: false, retryStrategy: () => 50 });
    own.on('error', () => {});
    const holderClients = redis.urls.map(client);
    clients.push(own, ...holderClients);
    const options = { amnesiaGuard: false, retry: { minDelayMs: 8_000, maxDelayMs: 10_000 } } as const;
    const holder = new LockManager({ nodes: holderClients[0]!, ...options });
    const waiting = new LockManager({ nodes: own, ...options });
    managers.push(holder, waiting);
    const name = 'cxkit:locks:released:resubscribe';
    const held = await holder.acquire('resubscribe', { heartbeat: false });
    const granted = waiting
      .acquire('resubscribe', { waitMs: 8_000, heartbeat: false })
      .catch((e: Error) => e);
    await waitUntil('subscribed', async () => (await numsub(0, name)) === 1, 5_000, 50);
    await redis.nodes[0]!.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitUntil('subscribed again', async () => (await numsub(0, name)) === 1, 5_000, 50);
    const released = performance.now();
    await held.release();
    const lock = await granted;
    expect(lock).not.toBeInstanceOf(Error);
    expect(performance.now() - released).toBeLessThan(2_000);
    await (lock as Lock).release();
  });

  it("is not ready while a node's SUBSCRIBE is in flight, though another node refused a second one at once", async () => {
    // Node 0's subscriber never answers SUBSCRIBE (a stalled node), node 1's refuses at once.
    const patched = (url: string, subscribe: () => Promise<unknown>) => {
      const c = client(url);
      clients.push(c);
      const duplicate = c.duplicate.bind(c);
      c.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
        const sub = duplicate(...args);
        clients.push(sub);
        sub.subscribe = subscribe as never;
        return sub;
      }) as Redis['duplicate'];
      return c as unknown as ScriptClient;
    };
    const stalled = patched(redis.urls[0]!, () => new Promise(() => {}));
    const refusing = patched(redis.urls[1]!, () => Promise.reject(new Error('not ready')));
    const notifier = new ReleaseNotifier([stalled, refusing], 10, 1_000, undefined);
    try {
      const first = notifier.watch('edge:ready');
      await first.ready; // the timeout: node 0 never answered
      const start = performance.now();
      const second = notifier.watch('edge:ready'); // asks node 1 again, which refuses at once
      await second.ready;
      expect(performance.now() - start).toBeGreaterThanOrEqual(900);
      first[Symbol.dispose]();
      second[Symbol.dispose]();
    } finally {
      notifier.close();
    }
  });
});
