import { startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterableSource, type SourceRecord, type StateCache } from '../src/index.js';
import { type Agent, cache, client, commandCalls, connected, namespace } from './helpers.js';

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
});
