import { spawnTs, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateCache, StateCacheStatus, StateSource } from '../src/index.js';
import { record } from './fixtures/log.js';
import { cache, client, connected, namespace } from './helpers.js';

const TOTAL = 6_000;

describe('a rebuilding pod is SIGKILLed', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  let redis: Redis;
  const caches: StateCache<{ n: number }>[] = [];
  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
    redis = await connected(client(nodes.urls[0]!));
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    redis.disconnect();
    await nodes.stop();
  });

  it('another pod takes the lease after it expires and resumes from the recorded offset', {
    timeout: 60_000,
  }, async () => {
    const ns = namespace('takeover');
    const child = spawnTs(new URL('./fixtures/rebuilder.ts', import.meta.url).pathname, [
      nodes.urls[0]!,
      ns,
      String(TOTAL),
    ]);
    let reached = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/progress (\d+)/g)) reached = Math.max(reached, Number(m[1]));
    });
    try {
      await waitUntil('child rebuilt part of the log', async () => reached >= 1_500, 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));

    const reads: (string | undefined)[] = [];
    const source: StateSource<{ n: number }> = {
      async *read({ fromOffset }) {
        reads.push(fromOffset);
        for (let n = Number(fromOffset ?? 0) + 1; n <= TOTAL; n++) yield record(n);
      },
    };
    const survivor = cache<{ n: number }>(redis, ns, { source, lease: { ttlMs: 2_000, heartbeatMs: 300 } });
    caches.push(survivor);
    const seen: StateCacheStatus[] = [];
    survivor.on('status', ({ to }) => seen.push(to));
    // The dead pod's lease is still there: the survivor must wait for it to lapse.
    expect(await redis.pttl(`cxsc:{${ns}}:lease`)).toBeGreaterThan(0);
    expect(await survivor.start()).toBe('degraded');
    await survivor.ready(AbortSignal.timeout(30_000));
    // It had to wait for the dead pod's lease to lapse, then resumed where the dead pod had recorded.
    expect(seen).toContain('rebuilding');
    expect(reads).toHaveLength(1);
    expect(Number(reads[0])).toBeGreaterThanOrEqual(1_500);
    expect(Number(reads[0])).toBeLessThan(TOTAL);
    for (let k = 0; k < 100; k++) {
      expect((await survivor.get(`k${k}`)).version).toBe(TOTAL - ((TOTAL - k) % 100));
    }
  });
});
