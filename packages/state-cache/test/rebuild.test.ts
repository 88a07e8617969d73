import { startPostgres, startRedisNodes, waitUntil } from '@cxkit/testkit';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isRedisUnavailableError,
  type PostgresOutboxSource,
  postgresOutboxSource,
  type StateCache,
  type StateCacheStatus,
  type StateEvent,
} from '../src/index.js';
import { type Agent, cache, client, connected, namespace } from './helpers.js';
import { rng, sequentialState } from './workload.js';

const INSTANCES = 4;

describe('Redis lost mid-run: degraded, one rebuild from the Postgres outbox, ready with everything', () => {
  let pgHandle: Awaited<ReturnType<typeof startPostgres>>;
  let pool: pg.Pool;
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  const clients: Redis[] = [];
  const caches: StateCache<Agent>[] = [];

  beforeAll(async () => {
    [pgHandle, nodes] = await Promise.all([startPostgres(), startRedisNodes(1, { private: true })]);
    pool = new pg.Pool({ connectionString: pgHandle.url, max: 6 });
    // Dropping the throwaway database at the end terminates idle pooled connections.
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
    await pool.end();
    await Promise.all([nodes.stop(), pgHandle.stop()]);
  });

  it('kill and restart Redis empty while writers run', { timeout: 120_000 }, async () => {
    const outbox: PostgresOutboxSource<Agent> = postgresOutboxSource<Agent>({
      db: pool,
      table: 'agent_outbox',
      batchSize: 700,
    });
    await outbox.migrate();
    const ns = namespace('rebuild');
    const statuses: StateCacheStatus[][] = [];
    let rebuildsCompleted = 0;
    let progress = 0;
    for (let i = 0; i < INSTANCES; i++) {
      const redis = await connected(client(nodes.urls[0]!));
      clients.push(redis);
      const c = cache<Agent>(redis, ns, {
        source: outbox,
        commandTimeoutMs: 1_500,
        lease: { ttlMs: 3_000, heartbeatMs: 500 },
        rebuildBatchSize: 1_000,
      });
      const seen: StateCacheStatus[] = [];
      statuses.push(seen);
      c.on('status', ({ to }) => seen.push(to));
      c.on('rebuild-complete', () => rebuildsCompleted++);
      c.on('rebuild-progress', ({ applied, offset }) => {
        expect(offset).toMatch(/^\d+$/);
        progress = Math.max(progress, applied);
      });
      caches.push(c);
      await c.start();
    }
    await Promise.all(caches.map((c) => c.ready(AbortSignal.timeout(20_000))));
    expect(rebuildsCompleted).toBe(1); // the first start of an empty namespace: one instance writes generation 1

    const random = rng(8);
    const versions = new Map<string, number>();
    const all: StateEvent<Agent>[] = [];
    let failedApplies = 0;
    const nextBatch = (size: number) =>
      Array.from({ length: size }, () => {
        const key = `agent-${Math.floor(random() * 3_000)}`;
        const version = (versions.get(key) ?? 0) + 1;
        versions.set(key, version);
        const event: StateEvent<Agent> =
          version > 1 && random() < 0.1
            ? { key, version, type: 'DELETED' }
            : {
                key,
                version,
                type: version === 1 ? 'CREATED' : 'UPDATED',
                value: { state: 'busy', n: version },
              };
        return event;
      });
    // Outbox first (the transactional write), then the live apply, which may fail while Redis is away.
    const write = async (round: number) => {
      const batch = nextBatch(200);
      all.push(...batch);
      await outbox.append(batch);
      try {
        await caches[round % INSTANCES]!.apply(batch);
      } catch (err) {
        if (!isRedisUnavailableError(err)) throw err;
        failedApplies++;
      }
    };
    for (let round = 0; round < 100; round++) await write(round);
    rebuildsCompleted = 0;
    progress = 0;
    for (const s of statuses) s.length = 0;

    let round = 100;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await write(round++);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await nodes.nodes[0]!.kill();
    await waitUntil(
      'every instance degraded',
      async () => caches.every((c) => c.status === 'degraded'),
      10_000,
    );
    const roundAtKill = round;
    await waitUntil('writes fail while Redis is down', async () => round > roundAtKill + 5, 10_000);
    await nodes.nodes[0]!.restart();
    await Promise.all(caches.map((c) => c.ready(AbortSignal.timeout(60_000))));
    const roundAtReady = round;
    await waitUntil('writes continue after recovery', async () => round > roundAtReady + 10, 10_000);
    stop = true;
    await writer;

    expect(failedApplies).toBeGreaterThan(0);
    expect(rebuildsCompleted).toBe(1);
    expect(statuses.filter((s) => s.includes('rebuilding'))).toHaveLength(1);
    expect(statuses.every((s) => s.includes('degraded') && s.at(-1) === 'ready')).toBe(true);
    expect(progress).toBeGreaterThanOrEqual(20_000);

    const expected = sequentialState(all);
    const keys = [...expected.keys()];
    const live = new Map<string, number>();
    for await (const e of caches[0]!.entries()) live.set(e.key, e.version);
    const wantLive = [...expected.values()].filter((e) => e.type !== 'DELETED');
    expect(live.size).toBe(wantLive.length);
    for (const e of wantLive) expect(live.get(e.key), e.key).toBe(e.version);
    for (const c of caches) {
      await waitUntil(
        'instance holds the full state',
        async () => {
          const got = await c.getMany(keys);
          return keys.every((k) => got.get(k)?.version === expected.get(k)!.version && !got.get(k)?.stale);
        },
        15_000,
      );
    }
  });
});
