import { startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isRebuildError,
  isRedisUnavailableError,
  kafkaSource,
  type SourceRecord,
  type StateCache,
  type StateCacheStatus,
  type StateSource,
} from '../src/index.js';
import { type Agent, cache, client, connected, namespace } from './helpers.js';

const record = (n: number): SourceRecord<Agent> => ({
  offset: String(n),
  event: { key: `k${n % 50}`, version: n, type: 'UPDATED', value: { state: 's', n } },
});

/** A log of `size` records that can seek, and fails once after `failAt` records to play a crashed rebuilder. */
function flakySource(size: number, failAt: number) {
  const reads: (string | undefined)[] = [];
  let failed = false;
  const source: StateSource<Agent> = {
    async *read({ fromOffset }) {
      reads.push(fromOffset);
      for (let n = Number(fromOffset ?? 0) + 1; n <= size; n++) {
        if (!failed && n === failAt) {
          failed = true;
          throw new Error('source connection reset');
        }
        yield record(n);
      }
    },
  };
  return { source, reads };
}

describe('faults: Redis down, paused, and a rebuild that dies half-way', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  const clients: Redis[] = [];
  const caches: StateCache<Agent>[] = [];
  const node = () => nodes.nodes[0]!;
  const redisClient = async () => {
    const r = await connected(client(node().url));
    clients.push(r);
    return r;
  };

  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
    await nodes.stop();
  });

  it('a paused Redis never hangs: reads answer from the near cache as stale, writes fail fast', async () => {
    const c = cache<Agent>(await redisClient(), namespace('pause'), { commandTimeoutMs: 300 });
    caches.push(c);
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    await c.apply({ key: 'a', version: 1, type: 'CREATED', value: { state: 'idle', n: 1 } });
    await node().pause();
    try {
      const started = performance.now();
      // 'a' is still trusted (nothing was lost yet); 'b' was never cached.
      expect(await c.get('a')).toMatchObject({ found: true, version: 1 });
      const missing = await c.get('b');
      expect(missing).toEqual({ found: false, value: undefined, version: undefined, stale: true });
      const err = await c
        .apply({ key: 'a', version: 2, type: 'UPDATED', value: { state: 'busy', n: 2 } })
        .catch((e) => e);
      expect(isRedisUnavailableError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'STATE_CACHE_UNAVAILABLE', status: 503, reason: 'timeout' });
      // Bounded by the command timeout (300 ms each), with a generous margin for a loaded machine.
      expect(performance.now() - started).toBeLessThan(10_000);
      // Once the bus cannot be verified for two check intervals, even trusted hits are flagged stale.
      await waitUntil('hit flagged stale', async () => (await c.get('a')).stale, 10_000);
      expect(await c.get('a')).toMatchObject({ found: true, version: 1, stale: true });
    } finally {
      await node().resume();
    }
    await c.apply({ key: 'a', version: 3, type: 'UPDATED', value: { state: 'busy', n: 3 } });
    expect(await c.get('a')).toMatchObject({ version: 3, stale: false });
  });

  it('close() returns while Redis is paused, with its own subscriber or a supplied one', async () => {
    const ns = namespace('close-paused');
    const supplied = await redisClient();
    const own = cache<Agent>(await redisClient(), ns, { commandTimeoutMs: 300 });
    const shared = cache<Agent>(await redisClient(), ns, { commandTimeoutMs: 300, subscriber: supplied });
    for (const c of [own, shared]) {
      await c.start();
      await c.ready(AbortSignal.timeout(10_000));
    }
    await node().pause();
    try {
      const within = (c: StateCache<Agent>) =>
        Promise.race([
          c.close().then(() => 'closed'),
          new Promise((resolve) => setTimeout(resolve, 5_000, 'still closing after 5 s')),
        ]);
      expect(await Promise.all([within(own), within(shared)])).toEqual(['closed', 'closed']);
    } finally {
      await node().resume();
    }
    expect(supplied.status).toBe('ready'); // a supplied subscriber is left open
  });

  it('starts degraded at once when Redis is down, serves stale, and becomes ready when it returns', async () => {
    const ns = namespace('down');
    const writer = cache<Agent>(await redisClient(), ns);
    caches.push(writer);
    await writer.start();
    await writer.ready(AbortSignal.timeout(10_000));
    await writer.apply({ key: 'x', version: 4, type: 'CREATED', value: { state: 'idle', n: 4 } });
    await node().stop();
    const r = client(node().url);
    clients.push(r);
    const c = cache<Agent>(r, ns, { commandTimeoutMs: 300 });
    caches.push(c);
    const seen: StateCacheStatus[] = [];
    c.on('status', ({ to }) => seen.push(to));
    const started = performance.now();
    expect(await c.start()).toBe('degraded');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await c.get('x')).toMatchObject({ found: false, stale: true });
    await node().restart();
    // Restarted empty (no persistence): one instance starts a new generation, the other reloads.
    await Promise.all([c.ready(AbortSignal.timeout(20_000)), writer.ready(AbortSignal.timeout(20_000))]);
    expect(seen.slice(0, 2)).toEqual(['warming', 'degraded']);
    await writer.apply({ key: 'x', version: 5, type: 'UPDATED', value: { state: 'busy', n: 5 } });
    await waitUntil('reader sees v5', async () => (await c.get('x')).version === 5, 5_000);
  });

  it('a rebuild that dies half-way resumes from the offset it recorded, not from zero', async () => {
    const { source, reads } = flakySource(5_000, 2_600);
    const c = cache<Agent>(await redisClient(), namespace('resume'), { source, rebuildBatchSize: 500 });
    caches.push(c);
    const errors: unknown[] = [];
    const progress: (string | undefined)[] = [];
    c.on('error', ({ error }) => errors.push(error));
    c.on('rebuild-progress', ({ offset }) => progress.push(offset));
    await c.start();
    await c.ready(AbortSignal.timeout(20_000));
    expect(errors.some(isRebuildError)).toBe(true);
    expect(errors.find(isRebuildError)).toMatchObject({ code: 'STATE_CACHE_REBUILD_FAILED', offset: '2500' });
    expect(reads).toEqual([undefined, '2500']);
    expect(progress.at(-1)).toBe('5000');
    for (let k = 0; k < 50; k++) {
      const want = 5_000 - ((5_000 - k) % 50);
      expect((await c.get(`k${k}`)).version).toBe(want);
    }
  });

  it('a Kafka record that cannot be decoded is skipped and logged, and the rebuild completes', async () => {
    const logged: object[] = [];
    const log = (obj: object) => logged.push(obj);
    const message = (offset: string, key: string, value: string) => ({
      partition: 0,
      message: { offset, key, value },
    });
    const source = kafkaSource<Agent>({
      logger: { debug: log, info: log, warn: log, error: log },
      async *messages() {
        yield message(
          '0',
          'a1',
          JSON.stringify({ version: 1, type: 'CREATED', value: { state: 'idle', n: 1 } }),
        );
        yield message('1', 'a2', '{not json');
        yield message(
          '2',
          'a3',
          JSON.stringify({ version: 1, type: 'CREATED', value: { state: 'busy', n: 3 } }),
        );
      },
    });
    const c = cache<Agent>(await redisClient(), namespace('poison'), { source });
    caches.push(c);
    const done: { applied: number; offset: string | undefined }[] = [];
    c.on('rebuild-complete', (e) => done.push(e));
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    expect(done).toMatchObject([{ applied: 2, offset: '0:2' }]);
    expect(logged).toMatchObject([{ offset: '0:1' }]);
    expect(await c.get('a3')).toMatchObject({ found: true, version: 1 });
    expect(await c.get('a2')).toMatchObject({ found: false });
  });

  it('notices a FLUSHALL without any reconnect (sequence check) and rebuilds from the source', async () => {
    const log = Array.from({ length: 300 }, (_, i) => record(i + 1));
    const c = cache<Agent>(await redisClient(), namespace('flush'), {
      source: {
        read: async function* () {
          yield* log;
        },
      },
      busCheckIntervalMs: 100,
    });
    caches.push(c);
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    const seen: StateCacheStatus[] = [];
    c.on('status', ({ to }) => seen.push(to));
    await (await redisClient()).flushall();
    await waitUntil(
      'degraded, rebuilt and ready again',
      async () => seen.includes('degraded') && c.status === 'ready',
      15_000,
    );
    expect(seen).toContain('rebuilding');
    expect((await c.get('k7')).version).toBe(257);
  });
});
