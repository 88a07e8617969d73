import { startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheRead, StateCache, StateEvent } from '../src/index.js';
import { type Agent, cache, client, connected, namespace } from './helpers.js';
import { histories, rng, sequentialState, shuffle } from './workload.js';

const KEYS = 5_000;
const UNIQUE = 90_000;
const DUPLICATES = 10_000;
const INSTANCES = 4;
const BATCH = 1_000;

describe('4 instances converge on shuffled, duplicated, out-of-order events', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  const clients: Redis[] = [];
  const caches: StateCache<Agent>[] = [];

  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
    await nodes.stop();
  });

  it('every instance and Redis equal the sequential in-order result, key by key', {
    timeout: 120_000,
  }, async () => {
    const random = rng(20261122);
    const ordered = histories(KEYS, UNIQUE, random);
    const expected = sequentialState(ordered);
    const duplicated = [
      ...ordered,
      ...Array.from({ length: DUPLICATES }, () => ordered[Math.floor(random() * UNIQUE)]!),
    ];
    const shuffled = shuffle(duplicated, random);
    expect(shuffled).toHaveLength(100_000);

    const ns = namespace('converge');
    for (let i = 0; i < INSTANCES; i++) {
      const redis = await connected(client(nodes.urls[0]!));
      clients.push(redis);
      const c = cache<Agent>(redis, ns, { commandTimeoutMs: 10_000 });
      caches.push(c);
      await c.start();
    }
    await Promise.all(caches.map((c) => c.ready(AbortSignal.timeout(20_000))));

    // Every instance reads while the others write, so near caches hold values that must be invalidated.
    const allKeys = [...expected.keys()];
    const shares: StateEvent<Agent>[][] = caches.map(() => []);
    shuffled.forEach((e, i) => {
      shares[i % INSTANCES]!.push(e);
    });
    let applied = 0;
    let writing = true;
    const readers = caches.map(async (c, i) => {
      const r = rng(i);
      while (writing) {
        await c.getMany(Array.from({ length: 200 }, () => allKeys[Math.floor(r() * allKeys.length)]!));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    await Promise.all(
      caches.map(async (c, i) => {
        const share = shares[i]!;
        for (let start = 0; start < share.length; start += BATCH) {
          const results = await c.apply(share.slice(start, start + BATCH));
          applied += results.filter((r) => r.outcome === 'applied').length;
        }
      }),
    );
    writing = false;
    await Promise.all(readers);
    // Each (key, version) applies exactly once across all instances; duplicates and older events are ignored.
    expect(applied).toBeLessThanOrEqual(UNIQUE);

    const matches = (read: CacheRead<Agent> | undefined, want: StateEvent<Agent>) =>
      want.type === 'DELETED'
        ? read?.found === false && read.version === want.version
        : read?.found === true && read.version === want.version && read.value?.n === want.version;
    // Bus messages may still be in flight right after the last write; each instance must converge.
    for (const c of caches) {
      await waitUntil(
        `instance converged`,
        async () => {
          const got = await c.getMany(allKeys);
          return allKeys.every((k) => matches(got.get(k), expected.get(k)!));
        },
        15_000,
      );
      const got = await c.getMany(allKeys);
      for (const key of allKeys) {
        const read = got.get(key)!;
        expect(read.stale).toBe(false);
        expect(matches(read, expected.get(key)!), key).toBe(true);
      }
      expect(c.nearCacheSize).toBeGreaterThan(0);
    }

    // Redis itself, key by key: live entries and tombstones.
    const live = new Map<string, number>();
    for await (const e of caches[0]!.entries()) live.set(e.key, e.version);
    const wantLive = [...expected.values()].filter((e) => e.type !== 'DELETED');
    expect(live.size).toBe(wantLive.length);
    for (const e of wantLive) expect(live.get(e.key), e.key).toBe(e.version);
    const redis = clients[0]!;
    const wantDeleted = [...expected.values()].filter((e) => e.type === 'DELETED');
    for (const e of wantDeleted.slice(0, 500)) {
      const tomb = await redis.hget(`cxsc:{${ns}:${partitionOf(e.key, 16)}}:t`, e.key);
      expect(Number(tomb), e.key).toBe(e.version);
    }
  });
});

function partitionOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}
