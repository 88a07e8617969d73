// @cxkit/checkpoint against the raw floor on the same Redis: one EVALSHA of a trivial script that stores
// the same bytes (save) and one GET of the same bytes (latest), at concurrency 1 and 32.
import { createHash } from 'node:crypto';
import { CheckpointStore, defineCheckpointSchema } from '@cxkit/checkpoint';
import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Redis } from 'ioredis';
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

interface Ctx {
  nodes: RedisNodes;
  redis: Redis;
  store: ReturnType<typeof makeStore>;
  payload: string;
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

const ops: Record<'save' | 'latest', { cxkit: Op; floor: Op; floorName: string }> = {
  save: {
    cxkit: (ctx, w) => ctx.store.save(`bench_${w}`, { region: 'eu-west-1', flowVersion: '12', variables }),
    floor: (ctx, w) => ctx.redis.evalsha(floorSha, 1, `floor:{bench_${w}}`, ctx.payload),
    floorName: 'raw EVALSHA (SET same bytes)',
  },
  latest: {
    cxkit: (ctx, w) => ctx.store.latest(`bench_${w}`),
    floor: (ctx, w) => ctx.redis.get(`floor:{bench_${w}}`),
    floorName: 'raw GET (same bytes)',
  },
};

function scenarios(): Scenario<Ctx>[] {
  const out: Scenario<Ctx>[] = [];
  for (const [name, op] of Object.entries(ops)) {
    for (const concurrency of [1, 32]) {
      const total = concurrency === 1 ? 1_000 : 6_000;
      const run = (fn: Op) => (ctx: Ctx) => load(total, concurrency, (w) => fn(ctx, w));
      const metrics: [string, string, 'higher' | 'lower', (l: Load) => number][] = [
        ['p50', 'ms', 'lower', (l) => percentile(l.latencies, 50)],
        ['p99', 'ms', 'lower', (l) => percentile(l.latencies, 99)],
        ['throughput', 'ops/s', 'higher', (l) => l.opsPerSec],
      ];
      for (const [metric, unit, better, pick] of metrics) {
        const scenario: Scenario<Ctx> = {
          name: `${name} ${metric}, concurrency ${concurrency}`,
          unit,
          better,
          baseline: '@cxkit/checkpoint',
          candidates: {
            '@cxkit/checkpoint': async (ctx) => pick(await run(op.cxkit)(ctx)),
            [op.floorName]: async (ctx) => pick(await run(op.floor)(ctx)),
          },
        };
        if (metric === 'p50' && concurrency === 1) {
          scenario.skipped = {
            '@langchain/langgraph-checkpoint-redis':
              'needs the RedisJSON and RediSearch modules (JSON.SET, FT.CREATE; Redis Stack or Redis 8); the bench server is plain redis-server 7.0 without modules',
          };
        }
        out.push(scenario);
      }
    }
  }
  return out;
}

export default defineBench<Ctx>({
  title: '@cxkit/checkpoint: save and latest vs the raw Redis floor',
  description:
    'One private redis-server on loopback. `save` = validation + transient stripping + one Lua script (fence, compare-and-set, counter, history append/trim, sliding TTL); its floor is one EVALSHA of a one-line script storing the same bytes. `latest` = one HMGET + JSON parse + envelope check + zod validation of the variables; its floor is one GET of the same bytes. Concurrency 32 uses 32 sessions (one flow each). p50/p99 are per-call latencies inside one sample; throughput is calls per second.',
  rounds: 9,
  async setup() {
    const nodes = await startRedisNodes(1, { private: true });
    const redis = new Redis(nodes.urls[0]!);
    const store = makeStore(redis);
    await redis.script('LOAD', floorScript);
    // Warm up both paths and give every session a checkpoint before any latest() is measured.
    for (let w = 0; w < 32; w++) await ops.save.cxkit({ nodes, redis, store, payload: '' }, w);
    await load(500, 4, (w) => store.latest(`bench_${w}`));
    const payload = (await redis.hget(`bench:checkpoint:{bench_0}`, 'cur')) ?? '';
    for (let w = 0; w < 32; w++) await redis.evalsha(floorSha, 1, `floor:{bench_${w}}`, payload);
    return { nodes, redis, store, payload };
  },
  async teardown(ctx) {
    ctx.redis.disconnect();
    await ctx.nodes.stop();
  },
  scenarios: scenarios(),
});
