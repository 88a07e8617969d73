// @cxkit/state-cache: snapshot start vs full log replay; near-cache reads vs bentocache (L1 memory + L2
// Redis + Redis bus) and a plain ioredis GET; invalidation propagation between two instances.
import { cpus, loadavg } from 'node:os';
import { setImmediate as tick } from 'node:timers/promises';
import type { StateCache } from '@cxkit/state-cache';
import { type PostgresHandle, type RedisNodes, startPostgres, startRedisNodes } from '@cxkit/testkit';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { defineBench } from './lib/define.js';
import { latencies, percentile, throughput } from './lib/measure.js';
import { type Agent, client, connected, fillOutbox, replayIntoMap, stateCache } from './state-cache/setup.js';

const KEYS = 100_000;
const EVENTS = 1_000_000;
const HOT_KEYS = 1_000;
const GETS = 200_000;
const REDIS_GETS = 20_000;
const CONCURRENCY = 16;
const PROPAGATIONS = 200;

interface Ctx {
  redisNodes: RedisNodes;
  postgres: PostgresHandle;
  db: pg.Pool;
  url: string;
  rebuildMs: number;
  /** Two cxkit instances sharing the namespace, and two bentocache instances sharing a prefix. */
  a: StateCache<Agent>;
  b: StateCache<Agent>;
  bentoA: BentoCache<{ cache: ReturnType<typeof bentostore> }>;
  bentoB: BentoCache<{ cache: ReturnType<typeof bentostore> }>;
  plain: Redis;
  clients: Redis[];
  version: number;
}

function bento(url: string) {
  const connection = { host: '127.0.0.1', port: Number(new URL(url).port) };
  return new BentoCache({
    default: 'cache',
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  });
}

const hot = (i: number) => `agent-${i % HOT_KEYS}`;

/** Time from a write on one instance until the other instance reads the new value. */
async function propagation(
  write: (v: number) => Promise<unknown>,
  read: () => Promise<number | undefined>,
  ctx: Ctx,
) {
  return latencies(PROPAGATIONS, async () => {
    const v = ++ctx.version;
    const written = write(v);
    while ((await read()) !== v) await tick();
    await written;
  });
}

const bench = defineBench<Ctx>({
  title: '@cxkit/state-cache vs full replay, bentocache and plain ioredis',
  rounds: 3,
  description: [
    `Cold start: ${EVENTS.toLocaleString('en-US')} events over ${KEYS.toLocaleString('en-US')} keys in a Postgres outbox;`,
    'Redis was rebuilt from it once by @cxkit/state-cache in setup (one instance, under the lease; time below).',
    '"cxkit snapshot start" is `start()` to `ready` with the near cache loading all keys from Redis (HSCAN, no replay);',
    '"full replay" is the seed\'s second generation: read the whole outbox (10k-row pages) into a versioned local map.',
    `Reads: ${GETS.toLocaleString('en-US')} gets over ${HOT_KEYS} hot keys, ${CONCURRENCY} in flight, all warm in L1 / the near cache;`,
    `plain ioredis GET does ${REDIS_GETS.toLocaleString('en-US')} network GETs of the same size.`,
    'bentocache 1.6.1: memory L1 + Redis L2 + Redis bus on the same Redis.',
    `Propagation: ${PROPAGATIONS} writes on instance A, time until instance B reads the new value (includes the write round trip).`,
  ].join(' '),
  async setup() {
    const [redisNodes, postgres] = await Promise.all([
      startRedisNodes(1, { private: true }),
      startPostgres(),
    ]);
    const db = new pg.Pool({ connectionString: postgres.url, max: 4 });
    db.on('error', () => {});
    const url = redisNodes.urls[0]!;
    await fillOutbox(db, KEYS, EVENTS);
    const clients: Redis[] = [];
    const open = async () => {
      const r = await connected(client(url));
      clients.push(r);
      return r;
    };
    // The first instance finds Redis empty and rebuilds it from the outbox under the lease.
    const started = performance.now();
    const a = stateCache(await open(), db, 20_000);
    await a.start();
    await a.ready(AbortSignal.timeout(600_000));
    const rebuildMs = performance.now() - started;
    const line = `Setup rebuild (start() on an empty Redis to ready): ${EVENTS.toLocaleString('en-US')} events from the outbox in ${(rebuildMs / 1000).toFixed(1)} s.`;
    console.log(`  ${line}`);
    // The machine is shared with other test runs; say how busy it was, since ratios move with it.
    const load = loadavg()[0]!.toFixed(1);
    bench.description = `${bench.description} ${line} 1-minute load average at setup: ${load} on ${cpus().length} cores.`;
    const b = stateCache(await open(), db, 20_000);
    await b.start();
    await b.ready(AbortSignal.timeout(60_000));
    const bentoA = bento(url);
    const bentoB = bento(url);
    for (let i = 0; i < HOT_KEYS; i++) {
      await bentoA.set({ key: hot(i), value: { state: 'idle', n: 0 }, ttl: '10m' });
      await bentoB.get({ key: hot(i) });
      await b.get(hot(i));
      await a.get(hot(i));
    }
    const plain = await open();
    await plain.set('plain:agent', JSON.stringify({ state: 'idle', n: 0 }));
    return { redisNodes, postgres, db, url, rebuildMs, a, b, bentoA, bentoB, plain, clients, version: 1_000 };
  },
  async teardown(ctx) {
    await Promise.all([ctx.a.close(), ctx.b.close(), ctx.bentoA.disconnect(), ctx.bentoB.disconnect()]);
    for (const c of ctx.clients) c.disconnect();
    await ctx.db.end();
    await Promise.all([ctx.redisNodes.stop(), ctx.postgres.stop()]);
  },
  scenarios: [
    {
      name: `cold start to ready, ${KEYS / 1000}k keys / ${EVENTS / 1_000_000}M events`,
      unit: 'ms',
      better: 'lower',
      baseline: 'cxkit snapshot start',
      candidates: {
        'cxkit snapshot start': async (ctx) => {
          const redis = await connected(client(ctx.url));
          const c = stateCache(redis, undefined, KEYS + 10_000);
          const t = performance.now();
          await c.start();
          await c.ready(AbortSignal.timeout(120_000));
          const ms = performance.now() - t;
          if (c.nearCacheSize < KEYS) throw new Error(`snapshot loaded ${c.nearCacheSize} entries`);
          await c.close();
          redis.disconnect();
          return ms;
        },
        'full replay into a local map': async (ctx) => {
          const t = performance.now();
          const state = await replayIntoMap(ctx.db);
          if (state.size !== KEYS) throw new Error(`replay built ${state.size} keys`);
          return performance.now() - t;
        },
      },
    },
    {
      name: `get, warm (${HOT_KEYS} hot keys, c=${CONCURRENCY})`,
      unit: 'ops/s',
      better: 'higher',
      baseline: 'cxkit near cache',
      candidates: {
        'cxkit near cache': (ctx) => throughput(GETS, CONCURRENCY, (i) => ctx.b.get(hot(i))),
        'bentocache L1+L2': (ctx) => throughput(GETS, CONCURRENCY, (i) => ctx.bentoB.get({ key: hot(i) })),
        'ioredis GET (network)': (ctx) =>
          throughput(REDIS_GETS, CONCURRENCY, () => ctx.plain.get('plain:agent')),
      },
    },
    ...(['p50', 'p99'] as const).map((p) => ({
      name: `invalidation propagation A -> B, ${p}`,
      unit: 'ms',
      better: 'lower' as const,
      baseline: 'cxkit',
      candidates: {
        cxkit: async (ctx: Ctx) =>
          percentile(
            await propagation(
              (v) =>
                ctx.a.apply({ key: 'agent-7', version: v, type: 'UPDATED', value: { state: 'busy', n: v } }),
              async () => (await ctx.b.get('agent-7')).version,
              ctx,
            ),
            p === 'p50' ? 50 : 99,
          ),
        'bentocache bus': async (ctx: Ctx) =>
          percentile(
            await propagation(
              (v) => ctx.bentoA.set({ key: 'agent-7', value: { state: 'busy', n: v }, ttl: '10m' }),
              async () => (await ctx.bentoB.get<Agent>({ key: 'agent-7' }))?.n,
              ctx,
            ),
            p === 'p50' ? 50 : 99,
          ),
      },
    })),
  ],
});

export default bench;
