import { startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApplyResult, isInvalidEventError, type StateCache } from '../src/index.js';
import {
  type Agent,
  Agent as AgentSchema,
  cache,
  client,
  commandCalls,
  connected,
  namespace,
} from './helpers.js';

describe('apply: versioned, atomic per key', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  let redis: Redis;
  const caches: StateCache<Agent>[] = [];
  const make = async (ns = namespace('apply')) => {
    const c = cache<Agent>(redis, ns, { schema: AgentSchema });
    caches.push(c);
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    expect(c.status).toBe('ready');
    return c;
  };

  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
    redis = await connected(client(nodes.urls[0]!));
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    redis.disconnect();
    await nodes.stop();
  });

  it('applies newer versions and ignores older or equal ones', async () => {
    const c = await make();
    const first = await c.apply({ key: 'a1', version: 2, type: 'CREATED', value: { state: 'idle', n: 2 } });
    expect(first).toEqual({ key: 'a1', version: 2, outcome: 'applied', storedVersion: 2 });
    const stale = await c.apply({ key: 'a1', version: 1, type: 'UPDATED', value: { state: 'busy', n: 1 } });
    expect(stale.outcome).toBe('ignored');
    expect(stale.storedVersion).toBe(2);
    expect(
      (await c.apply({ key: 'a1', version: 2, type: 'UPDATED', value: { state: 'x', n: 9 } })).outcome,
    ).toBe('ignored');
    await c.apply({ key: 'a1', version: 5, type: 'UPDATED', value: { state: 'busy', n: 5 } });
    expect(await c.get('a1')).toEqual({
      found: true,
      value: { state: 'busy', n: 5 },
      version: 5,
      stale: false,
    });
  });

  it('keeps a tombstone so a late UPDATE cannot resurrect a DELETE', async () => {
    const c = await make();
    await c.apply({ key: 'w', version: 1, type: 'CREATED', value: { state: 'open', n: 1 } });
    expect((await c.apply({ key: 'w', version: 3, type: 'DELETED' })).outcome).toBe('applied');
    const late = await c.apply({ key: 'w', version: 2, type: 'UPDATED', value: { state: 'open', n: 2 } });
    expect(late).toMatchObject({ outcome: 'ignored', storedVersion: 3 });
    expect(await c.get('w')).toMatchObject({ found: false, version: 3, stale: false });
    // A DELETE for a key never seen still leaves a tombstone.
    await c.apply({ key: 'never', version: 4, type: 'DELETED' });
    expect(
      (await c.apply({ key: 'never', version: 3, type: 'CREATED', value: { state: 'x', n: 0 } })).outcome,
    ).toBe('ignored');
    expect(
      (await c.apply({ key: 'w', version: 4, type: 'CREATED', value: { state: 'again', n: 4 } })).outcome,
    ).toBe('applied');
    expect((await c.get('w')).value).toEqual({ state: 'again', n: 4 });
  });

  it('lets tombstones expire after tombstoneTtlMs (server time)', async () => {
    const ns = namespace('tomb');
    const c = cache<Agent>(redis, ns, { tombstoneTtlMs: 50 });
    caches.push(c);
    await c.start();
    await c.ready();
    await c.apply({ key: 'k', version: 7, type: 'DELETED' });
    await new Promise((r) => setTimeout(r, 120));
    expect(
      (await c.apply({ key: 'k', version: 1, type: 'CREATED', value: { state: 'new', n: 1 } })).outcome,
    ).toBe('applied');
  });

  it('an expired tombstone reads as absent, so a reader that read it is told of an older event applied next', async () => {
    const ns = namespace('tomb-read');
    const writer = cache<Agent>(redis, ns, { tombstoneTtlMs: 50 });
    caches.push(writer);
    await writer.start();
    await writer.ready(AbortSignal.timeout(10_000));
    await writer.apply({ key: 'k', version: 7, type: 'DELETED' });
    await new Promise((r) => setTimeout(r, 120)); // expired, not purged (only a write purges)
    // A reader that starts now (it never heard of the delete) reads the key and caches what it read.
    const reader = cache<Agent>(redis, ns, { tombstoneTtlMs: 50 });
    caches.push(reader);
    await reader.start();
    await reader.ready(AbortSignal.timeout(10_000));
    expect((await reader.get('k')).found).toBe(false);
    expect(
      (await writer.apply({ key: 'k', version: 1, type: 'CREATED', value: { state: 'back', n: 1 } })).outcome,
    ).toBe('applied');
    // The invalidation of version 1 must replace what the reader cached.
    let read = await reader.get('k');
    for (let i = 0; i < 50 && !read.found; i++) {
      await new Promise((r) => setTimeout(r, 20));
      read = await reader.get('k');
    }
    expect(read).toMatchObject({ found: true, version: 1, value: { state: 'back', n: 1 }, stale: false });
  });

  it('applies a batch in one round trip and reports each event, duplicates within the batch included', async () => {
    const c = await make();
    const events = Array.from({ length: 300 }, (_, i) => ({
      key: `b${i % 100}`,
      version: i,
      type: 'UPDATED' as const,
      value: { state: 's', n: i },
    }));
    events.push({ key: 'b0', version: 0, type: 'UPDATED', value: { state: 'dup', n: 0 } });
    const before = await commandCalls(redis, 'evalsha');
    const results: ApplyResult[] = await c.apply(events);
    const after = await commandCalls(redis, 'evalsha');
    expect(results).toHaveLength(301);
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(300);
    expect(results[300]).toMatchObject({ key: 'b0', outcome: 'ignored', storedVersion: 200 });
    // One script call per partition touched (16 by default), all in one pipeline.
    expect(after - before).toBeLessThanOrEqual(16);
    expect((await c.get('b7')).value).toEqual({ state: 's', n: 207 });
  });

  it('validates the whole batch before writing anything', async () => {
    const c = await make();
    const bad = [
      { key: 'v1', version: 1, type: 'CREATED' as const, value: { state: 'ok', n: 1 } },
      { key: 'v2', version: 1, type: 'CREATED' as const, value: { state: 'ok', n: 1.5 } },
    ];
    const err = await c.apply(bad).catch((e: unknown) => e);
    expect(isInvalidEventError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'STATE_EVENT_INVALID', status: 422, index: 1, key: 'v2' });
    expect(await c.get('v1')).toMatchObject({ found: false, stale: false });
    for (const event of [
      { key: '', version: 1, type: 'CREATED', value: { state: 'x', n: 1 } },
      { key: 'x'.repeat(513), version: 1, type: 'CREATED', value: { state: 'x', n: 1 } },
      { key: 'k', version: -1, type: 'CREATED', value: { state: 'x', n: 1 } },
      { key: 'k', version: 1.5, type: 'CREATED', value: { state: 'x', n: 1 } },
      { key: 'k', version: 1, type: 'MOVED', value: { state: 'x', n: 1 } },
      { key: 'k', version: 1, type: 'UPDATED' },
    ]) {
      await expect(c.apply(event as never)).rejects.toMatchObject({ code: 'STATE_EVENT_INVALID' });
    }
    const keys = await redis.keys(`cxsc:{${c.namespace}:*}:d`);
    expect(keys).toEqual([]);
  });

  it('rejects keys that are not well-formed UTF-16, which Redis would store as U+FFFD', async () => {
    const c = await make();
    const lone = 'agent-\uD83D'; // e.g. a display name cut in the middle of an emoji
    const batch = [
      { key: 'fine', version: 1, type: 'CREATED' as const, value: { state: 'ok', n: 1 } },
      { key: lone, version: 1, type: 'CREATED' as const, value: { state: 'ok', n: 1 } },
    ];
    await expect(c.apply(batch)).rejects.toMatchObject({
      code: 'STATE_EVENT_INVALID',
      index: 1,
      key: lone,
      message: expect.stringMatching(/key is not well-formed UTF-16/),
    });
    expect(await c.get('fine')).toMatchObject({ found: false });
    await expect(c.get('\uDFFF')).rejects.toMatchObject({ code: 'STATE_EVENT_INVALID', index: 0 });
    await expect(c.getMany(['fine', lone])).rejects.toMatchObject({ code: 'STATE_EVENT_INVALID', index: 1 });
    // A surrogate pair is a well-formed character and round-trips.
    await c.apply({ key: 'agent-\u{1F600}', version: 2, type: 'CREATED', value: { state: 'ok', n: 2 } });
    expect(await c.get('agent-\u{1F600}')).toMatchObject({ found: true, version: 2 });
  });

  it('getMany reads all misses in one round trip and entries() streams everything', async () => {
    const ns = namespace('many');
    const writer = await make(ns);
    await writer.apply(
      Array.from({ length: 2500 }, (_, i) => ({
        key: `m${i}`,
        version: 1,
        type: 'CREATED' as const,
        value: { state: 'idle', n: i },
      })),
    );
    await writer.apply({ key: 'm3', version: 2, type: 'DELETED' });
    const reader = cache<Agent>(redis, ns, { nearCache: { max: 10, ttlMs: 60_000 } });
    caches.push(reader);
    expect(await reader.start()).toBe('ready');
    const wanted = Array.from({ length: 200 }, (_, i) => `m${i}`);
    const before = await commandCalls(redis, 'evalsha');
    const got = await reader.getMany(wanted);
    const after = await commandCalls(redis, 'evalsha');
    expect(after - before).toBeLessThanOrEqual(16);
    expect(got.get('m42')).toEqual({
      found: true,
      value: { state: 'idle', n: 42 },
      version: 1,
      stale: false,
    });
    expect(got.get('m3')).toMatchObject({ found: false, version: 2 });
    const seen = new Map<string, number>();
    for await (const e of reader.entries({ batchSize: 100 })) seen.set(e.key, e.value.n);
    expect(seen.size).toBe(2499);
    expect(seen.get('m2499')).toBe(2499);
  });
});
