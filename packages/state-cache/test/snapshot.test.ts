import { once } from 'node:events';
import { startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterableSource, type SourceRecord, type StateCache } from '../src/index.js';
import { type Agent, cache, client, commandCalls, connected, namespace } from './helpers.js';

/** Runs `fault` inside the client's next HSCAN (a snapshot load step), before the command is sent. */
function onNextScan(r: Redis, fault: () => Promise<void>): void {
  const hscan = r.hscan.bind(r) as (...args: unknown[]) => Promise<unknown>;
  let armed = true;
  (r as unknown as { hscan: typeof hscan }).hscan = async (...args) => {
    if (armed) {
      armed = false;
      await fault();
    }
    return hscan(...args);
  };
}

/** Runs `fault` before the client's next pipeline is sent (the generation markers read). */
function onNextPipeline(r: Redis, fault: () => Promise<void>): void {
  const pipeline = r.pipeline.bind(r);
  let armed = true;
  (r as unknown as { pipeline: typeof pipeline }).pipeline = (...args) => {
    const p = pipeline(...args);
    if (!armed) return p;
    armed = false;
    const exec = p.exec.bind(p);
    p.exec = (async () => {
      await fault();
      return exec();
    }) as typeof p.exec;
    return p;
  };
}

describe('snapshot-first start', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  let redis: Redis;
  const caches: StateCache<Agent>[] = [];
  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
    redis = await connected(client(nodes.urls[0]!));
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    redis.disconnect();
    await nodes.stop();
  });

  it('loads the near cache from Redis in pages and never reads the source when Redis is complete', async () => {
    const log: SourceRecord<Agent>[] = Array.from({ length: 6_000 }, (_, i) => ({
      offset: String(i + 1),
      event: { key: `k${i % 3_000}`, version: i + 1, type: 'UPDATED', value: { state: 's', n: i } },
    }));
    let reads = 0;
    const counted = iterableSource(() => {
      reads++;
      return log;
    });
    const ns = namespace('snap');
    const first = cache<Agent>(redis, ns, { source: counted, nearCache: { max: 5_000, ttlMs: 60_000 } });
    caches.push(first);
    await first.start();
    await first.ready(AbortSignal.timeout(20_000));
    expect(reads).toBe(1); // the empty namespace was built once from the source

    const scansBefore = await commandCalls(redis, 'hscan');
    const second = cache<Agent>(redis, ns, {
      source: counted,
      nearCache: { max: 5_000, ttlMs: 60_000 },
      snapshotBatchSize: 200,
    });
    caches.push(second);
    expect(await second.start()).toBe('ready');
    expect(reads).toBe(1);
    expect(second.nearCacheSize).toBe(3_000);
    // Pages, not one giant reply: at least 3,000 / 200 scan steps.
    expect((await commandCalls(redis, 'hscan')) - scansBefore).toBeGreaterThanOrEqual(15);
    const before = await commandCalls(redis, 'evalsha');
    const got = await second.getMany(['k0', 'k2999']);
    expect(await commandCalls(redis, 'evalsha')).toBe(before); // served from the near cache
    expect(got.get('k2999')).toEqual({
      found: true,
      value: { state: 's', n: 5_999 },
      version: 6_000,
      stale: false,
    });

    const small = cache<Agent>(redis, ns, { nearCache: { max: 1_000, ttlMs: 60_000 } });
    caches.push(small);
    expect(await small.start()).toBe('ready');
    expect(small.nearCacheSize).toBe(1_000);
  });

  it('a snapshot page that times out at start: start() resolves degraded, and the cache recovers', async () => {
    const ns = namespace('snap-slow');
    const seed = cache<Agent>(redis, ns);
    caches.push(seed);
    await seed.start();
    await seed.ready(AbortSignal.timeout(10_000));
    await seed.apply({ key: 'k1', version: 1, type: 'CREATED', value: { state: 's', n: 1 } });
    const r = await connected(client(nodes.urls[0]!));
    const c = cache<Agent>(r, ns, { commandTimeoutMs: 300 });
    caches.push(c);
    const node = nodes.nodes[0]!;
    onNextScan(r, async () => {
      await node.pause();
      setTimeout(() => void node.resume(), 800);
    });
    try {
      expect(await c.start()).toBe('degraded');
    } finally {
      await waitUntil('node resumed', async () => !node.paused, 5_000);
    }
    await c.ready(AbortSignal.timeout(10_000));
    expect((await c.get('k1')).value).toEqual({ state: 's', n: 1 });
    await c.close();
    r.disconnect();
  });

  it('a client that connects lazily (its duplicate too) still subscribes and gets ready', async () => {
    const ns = namespace('snap-lazy');
    const r = new Redis(nodes.urls[0]!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const c = cache<Agent>(r, ns);
    caches.push(c);
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    await c.apply({ key: 'k1', version: 1, type: 'CREATED', value: { state: 's', n: 1 } });
    expect((await c.get('k1')).found).toBe(true);
    await c.close();
    r.disconnect();
  });

  describe('a bus that drops while the snapshot loads', () => {
    const seeded = async () => {
      const ns = namespace('snap-bus');
      const seed = cache<Agent>(redis, ns);
      caches.push(seed);
      await seed.start();
      await seed.ready(AbortSignal.timeout(10_000));
      const events = Array.from({ length: 300 }, (_, i) => ({
        key: `k${i}`,
        version: 1,
        type: 'CREATED' as const,
        value: { state: 's', n: i },
      }));
      await seed.apply(events);
      const r = await connected(client(nodes.urls[0]!));
      const sub = await connected(client(nodes.urls[0]!));
      const c = cache<Agent>(r, ns, { subscriber: sub });
      caches.push(c);
      return { ns, r, sub, c };
    };
    // A client's first script call may be an EVAL, later ones EVALSHA: count both.
    const scriptCalls = async () =>
      (await commandCalls(redis, 'evalsha')) + (await commandCalls(redis, 'eval'));
    const servedFromNearCache = async (c: StateCache<Agent>) => {
      const before = await scriptCalls();
      const read = await c.get('k7');
      return read.version === 1 && !read.stale && (await scriptCalls()) === before;
    };

    it('already while the markers are read: nothing is trusted or served from memory until it is back', async () => {
      const { r, sub, c } = await seeded();
      onNextPipeline(r, async () => {
        sub.disconnect();
        await once(sub, 'close');
      });
      expect(await c.start()).toBe('degraded');
      expect(await servedFromNearCache(c)).toBe(false);
      expect((await c.get('k7')).found).toBe(true); // from Redis
      await sub.connect();
      await c.ready(AbortSignal.timeout(10_000));
      expect(await servedFromNearCache(c)).toBe(true);
      await c.close();
      r.disconnect();
      sub.disconnect();
    });

    it('and stays down: start() does not resolve ready, and the instance waits for the bus', async () => {
      const { r, sub, c } = await seeded();
      onNextScan(r, async () => sub.disconnect());
      expect(await c.start()).toBe('degraded');
      await new Promise((resolve) => setTimeout(resolve, 500)); // several recovery intervals
      expect(c.status).toBe('degraded');
      // What the load put in the near cache is not served while no invalidation can arrive.
      expect(await servedFromNearCache(c)).toBe(false);
      await sub.connect();
      await c.ready(AbortSignal.timeout(10_000));
      expect(c.nearCacheSize).toBe(300);
      expect(await servedFromNearCache(c)).toBe(true);
      await c.close();
      r.disconnect();
      sub.disconnect();
    });

    it('whose first SUBSCRIBE failed: the resubscribe after a reconnect counts, and the cache gets ready', async () => {
      const { r, sub, c } = await seeded();
      // As when the connection drops under the first SUBSCRIBE for longer than its retries.
      const subscribe = sub.subscribe.bind(sub) as (...args: unknown[]) => Promise<unknown>;
      let failed = false;
      (sub as unknown as { subscribe: typeof subscribe }).subscribe = async (...args) => {
        if (failed) return subscribe(...args);
        failed = true;
        throw new Error('Reached the max retries per request limit');
      };
      expect(await c.start()).toBe('degraded');
      sub.disconnect(true);
      await c.ready(AbortSignal.timeout(10_000));
      expect(await servedFromNearCache(c)).toBe(true);
      await c.close();
      r.disconnect();
      sub.disconnect();
    });

    it('and is back before the load ends: the load is repeated before ready', async () => {
      const { ns, r, sub, c } = await seeded();
      await c.start();
      await c.ready(AbortSignal.timeout(10_000));
      // First drop: recovery reloads the snapshot once the bus is back; a second drop hits that load.
      onNextScan(r, async () => {
        sub.disconnect(true);
        await once(sub, 'ready');
        await sub.subscribe(`cxsc:${ns}:bus`); // queued behind the cache's own resubscribe
      });
      sub.disconnect(true);
      await waitUntil('degraded', async () => c.status === 'degraded', 5_000);
      await waitUntil(
        'ready and trusted',
        async () => c.status === 'ready' && (await servedFromNearCache(c)),
        10_000,
      );
      await c.close();
      r.disconnect();
      sub.disconnect();
    });
  });
});
