// @cxkit/checkpoint against the raw floor on the same Redis: one EVALSHA of a trivial script that stores
// the same bytes (save) and one GET of the same bytes (latest), at concurrency 1 and 32.
import { createHash } from 'node:crypto';
import { CheckpointStore, defineCheckpointSchema, PostgresCheckpointStore } from '@cxkit/checkpoint';
import { type PostgresHandle, type RedisNodes, startPostgres, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';
import { defineBench, type Scenario } from './lib/define.js';
import { percentile } from './lib/measure.js';

const variablesSchema = z.object({
  routing_queue: z.string(),
  crm_record_id: z.string(),
  auth_status: z.enum(['verified', 'unverified']),
  retry_count: z.number().int(),
  last_menu_selection: z.string().optional(),
});
const schema = defineCheckpointSchema({
  version: 1,
  variables: variablesSchema,
  transient: ['last_menu_selection'],
});

const variables: z.input<typeof variablesSchema> = {
  routing_queue: 'billing_support_priority',
  crm_record_id: 'cust_449201',
  auth_status: 'verified',
  retry_count: 0,
  last_menu_selection: 'billing_options',
};

const floorScript = "redis.call('SET', KEYS[1], ARGV[1]) return 1";
const floorSha = createHash('sha1').update(floorScript).digest('hex');

const makeStore = (redis: Redis) => new CheckpointStore({ redis, schema, namespace: 'bench:checkpoint' });
const makePgStore = (db: pg.Pool) => new PostgresCheckpointStore({ db, schema, table: 'bench_checkpoints' });

interface Ctx {
  nodes: RedisNodes;
  redis: Redis;
  /** Same server, `enableAutoPipelining`: the floor for calls made together (the store pipelines them). */
  piped: Redis;
  store: ReturnType<typeof makeStore>;
  payload: string;
  database: PostgresHandle;
  pool: pg.Pool;
  pgStore: ReturnType<typeof makePgStore>;
}

interface Load {
  latencies: number[];
  opsPerSec: number;
}

/** `total` calls with `concurrency` workers; worker w always uses session w (one flow per worker). */
async function load(
  total: number,
  concurrency: number,
  fn: (worker: number) => Promise<unknown>,
): Promise<Load> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async (w: number) => {
    while (next++ < total) {
      const t = performance.now();
      await fn(w);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return { latencies, opsPerSec: total / ((performance.now() - start) / 1000) };
}

type Op = (ctx: Ctx, worker: number) => Promise<unknown>;

interface Operation {
  name: string;
  cxkit: Op;
  floor: Op;
  floorName: string;
  /** The floor on the auto-pipelining client, run at concurrency 32. */
  pipedFloor?: Op;
  /** Which concurrency/metric pairs to run (all when omitted). */
  only?: string[];
  /** Calls per sample at concurrency 1 and 32. @default [1_000, 6_000] */
  calls?: [number, number];
}

const ops: Operation[] = [
  {
    name: 'save',
    cxkit: (ctx, w) => ctx.store.save(`bench_${w}`, { region: 'eu-west-1', flowVersion: '12', variables }),
    floor: (ctx, w) => ctx.redis.evalsha(floorSha, 1, `floor:{bench_${w}}`, ctx.payload),
    floorName: 'raw EVALSHA (SET same bytes)',
    pipedFloor: (ctx, w) => ctx.piped.evalsha(floorSha, 1, `floor:{bench_${w}}`, ctx.payload),
  },
  {
    name: 'latest',
    cxkit: (ctx, w) => ctx.store.latest(`bench_${w}`),
    floor: (ctx, w) => ctx.redis.get(`floor:{bench_${w}}`),
    floorName: 'raw GET (same bytes)',
    pipedFloor: (ctx, w) => ctx.piped.get(`floor:{bench_${w}}`),
  },
  {
    name: 'Postgres save',
    cxkit: (ctx, w) => ctx.pgStore.save(`bench_${w}`, { region: 'eu-west-1', flowVersion: '12', variables }),
    // Named, like the store's statements: prepared once per connection.
    floor: (ctx, w) =>
      ctx.pool.query({
        name: 'bench_floor_upsert',
        text: 'INSERT INTO bench_floor (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v',
        values: [`bench_${w}`, ctx.payload],
      }),
    floorName: 'raw upsert (same bytes)',
    only: ['p50 1', 'throughput 32'],
    calls: [200, 1_500],
  },
  {
    name: 'Postgres latest',
    cxkit: (ctx, w) => ctx.pgStore.latest(`bench_${w}`),
    floor: (ctx, w) =>
      ctx.pool.query({
        name: 'bench_floor_select',
        text: 'SELECT v FROM bench_floor WHERE k = $1',
        values: [`bench_${w}`],
      }),
    floorName: 'raw SELECT by key',
    only: ['p50 1', 'throughput 32'],
    calls: [500, 3_000],
  },
];

const skippedAnchor = {
  '@langchain/langgraph-checkpoint-redis':
    'needs the RedisJSON and RediSearch modules (JSON.SET, FT.CREATE; Redis Stack or Redis 8); the bench server is plain redis-server 7.0 without modules',
};

function scenarios(): Scenario<Ctx>[] {
  const out: Scenario<Ctx>[] = [];
  for (const op of ops) {
    for (const concurrency of [1, 32]) {
      const [one, many] = op.calls ?? [1_000, 6_000];
      const total = concurrency === 1 ? one : many;
      const run = (fn: Op) => (ctx: Ctx) => load(total, concurrency, (w) => fn(ctx, w));
      const metrics: [string, string, 'higher' | 'lower', (l: Load) => number][] = [
        ['p50', 'ms', 'lower', (l) => percentile(l.latencies, 50)],
        ['p99', 'ms', 'lower', (l) => percentile(l.latencies, 99)],
        ['throughput', 'ops/s', 'higher', (l) => l.opsPerSec],
      ];
      for (const [metric, unit, better, pick] of metrics) {
        if (op.only && !op.only.includes(`${metric} ${concurrency}`)) continue;
        out.push({
          name: `${op.name} ${metric}, concurrency ${concurrency}`,
          unit,
          better,
          baseline: '@cxkit/checkpoint',
          candidates: {
            '@cxkit/checkpoint': async (ctx) => pick(await run(op.cxkit)(ctx)),
            [op.floorName]: async (ctx) => pick(await run(op.floor)(ctx)),
            ...(op.pipedFloor && concurrency > 1
              ? {
                  [`${op.floorName}, auto-pipelining client`]: async (ctx: Ctx) =>
                    pick(await run(op.pipedFloor!)(ctx)),
                }
              : {}),
          },
          ...(metric === 'p50' && concurrency === 1 && !op.only ? { skipped: skippedAnchor } : {}),
        });
      }
    }
  }
  return out;
}

export default defineBench<Ctx>({
  title: '@cxkit/checkpoint: save and latest vs the raw Redis and Postgres floor',
  description:
    'One private redis-server and the local PostgreSQL, on loopback. `save` = validation + transient stripping + one Lua script (fence, compare-and-set, counter, history append/trim, sliding TTL); its floor is one EVALSHA of a one-line script storing the same bytes. `latest` = one HMGET + JSON parse + envelope check + zod validation of the variables; its floor is one GET of the same bytes. The Postgres rows run `PostgresCheckpointStore` (one statement per save, one join per read, named prepared statements) against one upsert / one primary-key SELECT of the same bytes, also named prepared statements, on a throwaway database. Concurrency 32 uses 32 sessions (one flow each); there the store sends calls made while others are on their way in pipelines of up to 8 (saves of one tick share one script call, each session still saved and answered on its own), so the Redis floors also run on a client with ioredis `enableAutoPipelining`. p50/p99 are per-call latencies inside one sample; throughput is calls per second.',
  rounds: 9,
  async setup() {
    const nodes = await startRedisNodes(1, { private: true });
    const redis = new Redis(nodes.urls[0]!);
    const piped = new Redis(nodes.urls[0]!, { enableAutoPipelining: true });
    const store = makeStore(redis);
    const database = await startPostgres();
    const pool = new pg.Pool({ connectionString: database.url, max: 16 });
    // An idle connection dropped by the server must not crash the run.
    pool.on('error', () => {});
    const pgStore = makePgStore(pool);
    await pgStore.migrate();
    await pool.query('CREATE TABLE IF NOT EXISTS bench_floor (k text PRIMARY KEY, v text NOT NULL)');
    await redis.script('LOAD', floorScript);
    // Give every session a checkpoint (and warm both paths) before any latest() is measured.
    for (let w = 0; w < 32; w++) {
      await store.save(`bench_${w}`, { region: 'eu-west-1', flowVersion: '12', variables });
      await pgStore.save(`bench_${w}`, { region: 'eu-west-1', flowVersion: '12', variables });
    }
    await load(500, 4, (w) => store.latest(`bench_${w}`));
    const payload = (await redis.hget(`bench:checkpoint:{bench_0}`, 'cur')) ?? '';
    for (let w = 0; w < 32; w++) {
      await redis.evalsha(floorSha, 1, `floor:{bench_${w}}`, payload);
      await pool.query('INSERT INTO bench_floor (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING', [
        `bench_${w}`,
        payload,
      ]);
    }
    return { nodes, redis, piped, store, payload, database, pool, pgStore };
  },
  async teardown(ctx) {
    ctx.redis.disconnect();
    ctx.piped.disconnect();
    await ctx.pool.end();
    await ctx.database.stop();
    await ctx.nodes.stop();
  },
  scenarios: scenarios(),
});
