import { startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateCache } from '../src/index.js';
import { type Agent, cache, client, connected, namespace } from './helpers.js';

/** A real subscriber connection whose delivered messages the test can drop, as a lossy network would. */
function lossySubscriber(url: string) {
  const sub = client(url);
  let dropping = false;
  let dropped = 0;
  const emit = sub.emit.bind(sub);
  sub.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (dropping && (event === 'message' || event === 'messageBuffer')) {
      if (event === 'message') dropped++;
      return true;
    }
    return emit(event, ...args);
  }) as typeof sub.emit;
  return {
    sub,
    pause: () => {
      dropping = true;
    },
    resume: () => {
      dropping = false;
    },
    dropped: () => dropped,
  };
}

describe('bus: gap detection and never older than told', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  const clients: Redis[] = [];
  const caches: StateCache<Agent>[] = [];
  const url = () => nodes.urls[0]!;
  const redisClient = async () => {
    const r = await connected(client(url()));
    clients.push(r);
    return r;
  };
  const pair = async (extra: { busCheckIntervalMs?: number } = {}) => {
    const ns = namespace('bus');
    const writer = cache<Agent>(await redisClient(), ns, { partitions: 1 });
    const lossy = lossySubscriber(url());
    clients.push(lossy.sub);
    await connected(lossy.sub);
    const reader = cache<Agent>(await redisClient(), ns, { partitions: 1, subscriber: lossy.sub, ...extra });
    caches.push(writer, reader);
    await writer.start();
    await writer.ready(AbortSignal.timeout(10_000));
    await reader.start();
    await reader.ready(AbortSignal.timeout(10_000));
    return { writer, reader, lossy };
  };
  const put = (c: StateCache<Agent>, key: string, v: number) =>
    c.apply({ key, version: v, type: 'UPDATED', value: { state: 'busy', n: v } });

  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
    await nodes.stop();
  });

  it('detects a sequence gap on the next message and stops trusting what it missed', async () => {
    const { writer, reader, lossy } = await pair({ busCheckIntervalMs: 60_000 });
    const gaps: unknown[] = [];
    reader.on('gap', (g) => gaps.push(g));
    await put(writer, 'k', 1);
    await waitUntil('reader sees v1', async () => (await reader.get('k')).version === 1, 5_000);
    expect((await reader.get('k')).stale).toBe(false);

    lossy.pause();
    await put(writer, 'k', 2);
    await put(writer, 'k', 3);
    await waitUntil('messages dropped', async () => lossy.dropped() >= 2, 5_000);
    // Not told: the near cache still answers v1, which is the documented window of a lossy bus.
    expect((await reader.get('k')).version).toBe(1);

    lossy.resume();
    await put(writer, 'other', 1);
    await waitUntil('gap detected', async () => gaps.length > 0, 5_000);
    expect(gaps[0]).toMatchObject({ partition: 0, reason: 'sequence gap' });
    expect(await reader.get('k')).toMatchObject({ version: 3, stale: false });
  });

  it('detects silently lost messages by comparing sequences with Redis when no message follows', async () => {
    const { writer, reader, lossy } = await pair({ busCheckIntervalMs: 100 });
    const gaps: { reason: string }[] = [];
    reader.on('gap', (g) => gaps.push(g));
    await put(writer, 'k', 1);
    await waitUntil('reader sees v1', async () => (await reader.get('k')).version === 1, 5_000);
    lossy.pause();
    await put(writer, 'k', 2);
    await waitUntil('message dropped', async () => lossy.dropped() >= 1, 5_000);
    lossy.resume();
    await waitUntil(
      'sequence check finds the loss',
      async () => gaps.some((g) => g.reason === 'sequence check'),
      5_000,
    );
    expect(await reader.get('k')).toMatchObject({ version: 2, stale: false });
  });

  it('never serves a version older than the last invalidation it received', async () => {
    const { writer, reader, lossy } = await pair();
    // The test's own listener runs after the cache's (registered later): what the cache was told.
    let told = 0;
    lossy.sub.on('message', (_channel: string, text: string) => {
      const e = (JSON.parse(text) as { e?: string[] }).e ?? [];
      for (let i = 0; i + 1 < e.length; i += 2) if (e[i] === 'hot') told = Math.max(told, Number(e[i + 1]));
    });
    let writing = true;
    const writes = (async () => {
      for (let v = 1; v <= 300; v++) await put(writer, 'hot', v);
      writing = false;
    })();
    let previous = 0;
    let reads = 0;
    while (writing) {
      const toldBefore = told;
      const read = await reader.get('hot');
      // Absent (before the first write lands) reads as version 0, below any version told.
      const version = read.version ?? 0;
      expect(version).toBeGreaterThanOrEqual(toldBefore);
      expect(version).toBeGreaterThanOrEqual(previous);
      previous = version;
      reads++;
      // Near-cache hits resolve without I/O; yield so the writer and the bus get their turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writes;
    expect(reads).toBeGreaterThan(10);
    await waitUntil('last write seen', async () => (await reader.get('hot')).version === 300, 5_000);
  });

  it('while its bus is down, neither reads nor its own writes are cached as trusted', async () => {
    const { writer, reader, lossy } = await pair({ busCheckIntervalMs: 60_000 });
    await put(writer, 'k', 1);
    lossy.sub.disconnect(); // the bus connection is gone and stays gone: no invalidation can arrive
    await waitUntil('reader degraded', async () => reader.status === 'degraded', 5_000);
    expect(await reader.get('k')).toMatchObject({ version: 1, stale: false }); // Redis answered
    await put(writer, 'k', 2);
    expect(await reader.get('k')).toMatchObject({ version: 2, stale: false });
    await put(reader, 'k', 3);
    await put(writer, 'k', 4);
    expect(await reader.get('k')).toMatchObject({ version: 4, stale: false });
    expect(reader.nearCacheSize).toBe(0);
  });

  it('distrusts everything after the bus connection drops, and reads Redis again', async () => {
    const { writer, reader } = await pair({ busCheckIntervalMs: 60_000 });
    const gaps: { partition: number | 'all' }[] = [];
    reader.on('gap', (g) => gaps.push(g));

    await put(writer, 'k', 1);
    await waitUntil('reader sees v1', async () => (await reader.get('k')).version === 1, 5_000);
    const admin = await redisClient();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await waitUntil('reconnect noticed', async () => gaps.some((g) => g.partition === 'all'), 5_000);
    await waitUntil('ready again', async () => reader.status === 'ready', 10_000);
    await put(writer, 'k', 2);
    await waitUntil('reader sees v2', async () => (await reader.get('k')).version === 2, 5_000);
  });
});
