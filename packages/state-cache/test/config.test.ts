import { startRedisNodes } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigError,
  defaults,
  isConfigError,
  isStateCacheClosedError,
  isStateCacheError,
  StateCache,
  type StateCacheStatus,
} from '../src/index.js';
import { type Agent, cache, client, connected, namespace } from './helpers.js';

describe('options, events and lifecycle', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  let redis: Redis;
  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
    redis = await connected(client(nodes.urls[0]!));
  });
  afterAll(async () => {
    redis.disconnect();
    await nodes.stop();
  });

  it('rejects bad options with a ConfigError (a TypeError) naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ namespace: 'has space' }, 'namespace'],
      [{ namespace: 'a{b}' }, 'namespace'],
      [{ nearCache: { max: 0 } }, 'nearCache.max'],
      [{ nearCache: { ttlMs: 1.5 } }, 'nearCache.ttlMs'],
      [{ lease: { ttlMs: 1_000, heartbeatMs: 1_000 } }, 'lease.heartbeatMs'],
      [{ partitions: 0 }, 'partitions'],
      [{ commandTimeoutMs: -1 }, 'commandTimeoutMs'],
      [{ schema: {} }, 'schema'],
      [{ source: [] }, 'source'],
      [{ redis: {} }, 'redis'],
      [{ logger: console.log }, 'logger'],
      [{ nearCahce: {} }, ''],
    ];
    for (const [override, field] of cases) {
      let err: unknown;
      try {
        new StateCache({ redis, namespace: 'ok', ...override } as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(override)).toBeInstanceOf(TypeError);
      expect(isConfigError(err)).toBe(true);
      if (field) expect((err as ConfigError).field).toBe(field);
      expect((err as Error).message).toContain('state-cache option');
    }
  });

  it('exports one frozen defaults object with the seed numbers', () => {
    expect(defaults.nearCacheMax).toBe(10_000);
    expect(defaults.nearCacheTtlMs).toBe(60_000);
    expect(defaults.leaseTtlMs).toBe(15_000);
    expect(defaults.leaseHeartbeatMs).toBe(5_000);
    expect(Object.isFrozen(defaults)).toBe(true);
  });

  it('emits typed status events whose subscriptions are disposable', async () => {
    const c = cache<Agent>(redis, namespace('events'));
    const seen: StateCacheStatus[] = [];
    const late: StateCacheStatus[] = [];
    const sub = c.on('status', ({ to }) => seen.push(to));
    c.on('status', () => {
      throw new Error('a throwing listener does not break the cache');
    });
    {
      using _scoped = c.on('status', ({ to }) => late.push(to));
    }
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    sub.dispose();
    expect(seen).toEqual(['warming', 'degraded', 'rebuilding', 'ready']);
    expect(late).toEqual([]);
    await c.close();
  });

  it('refuses a namespace written with another partition count', async () => {
    const ns = namespace('parts');
    const a = cache<Agent>(redis, ns, { partitions: 16 });
    await a.start();
    await a.ready(AbortSignal.timeout(10_000));
    const b = cache<Agent>(redis, ns, { partitions: 8 });
    await expect(b.start()).rejects.toMatchObject({ name: 'ConfigError', field: 'partitions' });
    await Promise.all([a.close(), b.close()]);
  });

  it('after close() every call rejects with StateCacheClosedError; waits honour their AbortSignal', async () => {
    const c = cache<Agent>(redis, namespace('closed'));
    const aborted = c.ready(AbortSignal.abort(new Error('gave up'))).catch((e: unknown) => e);
    expect(await aborted).toMatchObject({ message: 'gave up' });
    const pending = c.ready();
    await c.close();
    expect(isStateCacheClosedError(await pending.catch((e: unknown) => e))).toBe(true);
    const calls: (() => Promise<unknown>)[] = [
      () => c.get('k'),
      () => c.apply({ key: 'k', version: 1, type: 'DELETED' }),
      () => c.start(),
    ];
    for (const call of calls) {
      const err = await Promise.resolve()
        .then(call)
        .catch((e: unknown) => e);
      expect(isStateCacheError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'STATE_CACHE_CLOSED', status: 503 });
    }
    await c.close();
  });
});
