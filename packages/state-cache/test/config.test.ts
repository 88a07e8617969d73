import { startRedisNodes, waitUntil } from '@cxkit/testkit';
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
  type StateSource,
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

  it('refuses a namespace written with another partition count, fewer or more', async () => {
    const ns = namespace('parts');
    const a = cache<Agent>(redis, ns, { partitions: 16 });
    await a.start();
    await a.ready(AbortSignal.timeout(10_000));
    await a.apply({ key: 'agent-1', version: 5, type: 'CREATED', value: { state: 'busy', n: 5 } });
    // With more partitions the extra ones carry no marker: that must not pass for "incomplete".
    for (const partitions of [8, 32]) {
      const b = cache<Agent>(redis, ns, { partitions, recoveryIntervalMs: 50 });
      await expect(b.start()).rejects.toMatchObject({ name: 'ConfigError', field: 'partitions' });
      await b.close();
    }
    expect(await redis.hget(`cxsc:{${ns}}:meta`, 'partitions')).toBe('16');
    expect(a.status).toBe('ready');
    expect(await a.get('agent-1')).toMatchObject({ version: 5, stale: false });
    await a.close();
  });

  it('records the partition count with the first rebuild batch, so a half-built namespace is refused too', async () => {
    const ns = namespace('parts-rebuild');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const source: StateSource<Agent> = {
      async *read() {
        yield { offset: '1', event: { key: 'k1', version: 1, type: 'CREATED', value: { state: 's', n: 1 } } };
        yield { offset: '2', event: { key: 'k2', version: 1, type: 'CREATED', value: { state: 's', n: 2 } } };
        await gate;
      },
    };
    const a = cache<Agent>(redis, ns, { partitions: 16, source, rebuildBatchSize: 1 });
    const progressed = new Promise((resolve) => a.on('rebuild-progress', resolve));
    await a.start();
    await progressed;
    const b = cache<Agent>(redis, ns, { partitions: 32 });
    await expect(b.start()).rejects.toMatchObject({ name: 'ConfigError', field: 'partitions' });
    open();
    await a.ready(AbortSignal.timeout(10_000));
    expect(await redis.hget(`cxsc:{${ns}}:meta`, 'partitions')).toBe('16');
    await Promise.all([a.close(), b.close()]);
  });

  it('a partition count that appears under a running instance stops its rebuild or degrades it', async () => {
    const ns = namespace('parts-changed');
    const meta = `cxsc:{${ns}}:meta`;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const source: StateSource<Agent> = {
      async *read() {
        await gate;
        yield { offset: '1', event: { key: 'k1', version: 1, type: 'CREATED', value: { state: 's', n: 1 } } };
      },
    };
    const errors: unknown[] = [];
    const a = cache<Agent>(redis, ns, { partitions: 16, source });
    a.on('error', ({ error }) => errors.push(error));
    await a.start();
    await waitUntil('rebuilding', async () => a.status === 'rebuilding', 10_000);
    // Another layout recorded its count meanwhile: the rebuild's next progress record is refused.
    await redis.hset(meta, 'partitions', '32');
    open();
    await waitUntil('rebuild refused', async () => errors.some(isConfigError), 10_000);
    expect(errors[0]).toMatchObject({ name: 'ConfigError', field: 'partitions' });
    expect(a.status).toBe('degraded');
    expect(await redis.hget(meta, 'partitions')).toBe('32');
    await a.close();

    const b = cache<Agent>(redis, namespace('parts-changed'), { partitions: 16 });
    const bErrors: unknown[] = [];
    b.on('error', ({ error }) => bErrors.push(error));
    await b.start();
    await b.ready(AbortSignal.timeout(10_000));
    await redis.hset(`cxsc:{${b.namespace}}:meta`, 'partitions', '32');
    await waitUntil('degraded by the bus check', async () => b.status === 'degraded', 10_000);
    await waitUntil('recovery reports the layout', async () => bErrors.some(isConfigError), 10_000);
    expect(b.status).toBe('degraded');
    await b.close();
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
