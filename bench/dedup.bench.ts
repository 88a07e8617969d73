// @cxkit/dedup claims against the raw Redis floor (SET NX PX through ioredis with auto-pipelining, and a
// redis-benchmark-style pipelined SET) and against BullMQ `add` with a deduplication id, on one Redis.
import { Deduplicator } from '@cxkit/dedup';
import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { defineBench, type Scenario } from './lib/define.js';
import { percentile } from './lib/measure.js';

/** The seed's Kafka-based dedup: two hops at a ~100 ms polling floor each, before any processing. */
const KAFKA_TWO_HOP_FLOOR_MS = 200;
const LEASE_MS = 30_000;
const WINDOW_MS = 60_000;
/** Ids per sample: sized so a 5-round run stays within a few minutes on a busy 2-core machine. */
const SAMPLE_1 = 1_000;
const SAMPLE_64 = 8_000;
const SAMPLE_BATCH = 10_000;

interface Ctx {
  nodes: RedisNodes;
  /** Auto-pipelining client, as a fan-out consumer would configure it (shared by cxkit and raw SET). */
  redis: Redis;
  /** Plain client for explicit pipelines. */
  plain: Redis;
  dedup: Deduplicator;
  queue: Queue;
  trivialSha: string;
  /** BullMQ's own connection (a passed-in connection is not closed by `queue.close()`). */
  bullRedis: Redis;
}

let sequence = 0;
/** Fresh ids for every sample, so every candidate measures first claims (the winner's path). */
const freshIds = (n: number): string[] => Array.from({ length: n }, () => `m-${(sequence++).toString(36)}`);

interface Load {
  latencies: number[];
  perSecond: number;
}

/** Runs `fn` once per id with `concurrency` in flight; returns per-call latencies and ids per second. */
async function load(ids: string[], concurrency: number, fn: (id: string) => Promise<unknown>): Promise<Load> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const t = performance.now();
      await fn(id);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, perSecond: ids.length / ((performance.now() - start) / 1000) };
}

/** Runs `fn` over `ids` in chunks of `size`, one chunk at a time; returns ids per second. */
async function chunked(
  ids: string[],
  size: number,
  fn: (chunk: string[]) => Promise<unknown>,
): Promise<Load> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < ids.length; i += size) {
    const t = performance.now();
    await fn(ids.slice(i, i + size));
    latencies.push(performance.now() - t);
  }
  return { latencies, perSecond: ids.length / ((performance.now() - start) / 1000) };
}

/** The scripting floor: the cheapest possible script, one SET NX PX. */
const TRIVIAL_SCRIPT = "return redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX')";

const op = {
  claim: (ctx: Ctx) => (id: string) => ctx.dedup.claim(id),
  setNxPx: (ctx: Ctx) => (id: string) => ctx.redis.set(`raw:${id}`, '1', 'PX', LEASE_MS, 'NX'),
  trivialScript: (ctx: Ctx) => (id: string) => ctx.redis.evalsha(ctx.trivialSha, 1, `lua:${id}`, LEASE_MS),
  bullmq: (ctx: Ctx) => (id: string) => ctx.queue.add('msg', { id }, { deduplication: { id } }),
  process: (ctx: Ctx) => (id: string) => ctx.dedup.process(id, () => 'ok'),
};

function pipelinedSet(ctx: Ctx, size: number) {
  return (ids: string[]) =>
    chunked(ids, size, (chunk) => {
      const pipeline = ctx.plain.pipeline();
      for (const id of chunk) pipeline.set(`pipe:${id}`, '1', 'PX', LEASE_MS, 'NX');
      return pipeline.exec();
    });
}

const pick = {
  rate: (l: Load) => l.perSecond,
  p99: (l: Load) => percentile(l.latencies, 99),
};

const CXKIT = '@cxkit/dedup claim';
const RAW = 'raw SET NX PX (ioredis auto-pipelining)';
const PIPE = 'pipelined SET NX PX (1,000 per round trip)';
const BULL = 'BullMQ add with deduplication id';
const LUA = 'raw EVALSHA of a one-line SET NX PX script (scripting floor)';
const KAFKA = 'Kafka two-hop dedup (seed: 2 x 100 ms poll; constant, not run)';

const scenarios: Scenario<Ctx>[] = [
  {
    name: 'claims/s, concurrency 1',
    unit: 'ids/s',
    better: 'higher',
    baseline: CXKIT,
    candidates: {
      [CXKIT]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_1), 1, op.claim(ctx))),
      [RAW]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_1), 1, op.setNxPx(ctx))),
      [LUA]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_1), 1, op.trivialScript(ctx))),
      [BULL]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_1), 1, op.bullmq(ctx))),
    },
  },
  {
    name: 'claims/s, concurrency 64',
    unit: 'ids/s',
    better: 'higher',
    baseline: CXKIT,
    candidates: {
      [CXKIT]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_64), 64, op.claim(ctx))),
      [RAW]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_64), 64, op.setNxPx(ctx))),
      [LUA]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_64), 64, op.trivialScript(ctx))),
      [PIPE]: async (ctx) => pick.rate(await pipelinedSet(ctx, 1_000)(freshIds(SAMPLE_64))),
      [BULL]: async (ctx) => pick.rate(await load(freshIds(SAMPLE_64), 64, op.bullmq(ctx))),
    },
  },
  {
    name: 'claimMany(1000), ids/s',
    unit: 'ids/s',
    better: 'higher',
    baseline: '@cxkit/dedup claimMany(1000)',
    candidates: {
      '@cxkit/dedup claimMany(1000)': async (ctx) =>
        pick.rate(await chunked(freshIds(SAMPLE_BATCH), 1_000, (chunk) => ctx.dedup.claimMany(chunk))),
      [PIPE]: async (ctx) => pick.rate(await pipelinedSet(ctx, 1_000)(freshIds(SAMPLE_BATCH))),
      'BullMQ addBulk(1000) with deduplication ids': async (ctx) =>
        pick.rate(
          await chunked(freshIds(SAMPLE_BATCH), 1_000, (chunk) =>
            ctx.queue.addBulk(
              chunk.map((id) => ({ name: 'msg', data: { id }, opts: { deduplication: { id } } })),
            ),
          ),
        ),
    },
  },
  {
    name: 'duplicate checks/s (losers), concurrency 64',
    unit: 'ids/s',
    better: 'higher',
    baseline: CXKIT,
    candidates: {
      // The ids are claimed once untimed; the timed pass is all losers.
      [CXKIT]: async (ctx) => {
        const ids = freshIds(SAMPLE_64);
        await ctx.dedup.claimMany(ids);
        return pick.rate(await load(ids, 64, op.claim(ctx)));
      },
      [RAW]: async (ctx) => {
        const ids = freshIds(SAMPLE_64);
        await pipelinedSet(ctx, 1_000)(ids.map((id) => `x${id}`));
        return pick.rate(
          await load(ids, 64, (id) => ctx.redis.set(`pipe:x${id}`, '1', 'PX', LEASE_MS, 'NX')),
        );
      },
    },
  },
  {
    name: 'p99 latency added per message, concurrency 64',
    unit: 'ms',
    better: 'lower',
    baseline: CXKIT,
    candidates: {
      [CXKIT]: async (ctx) => pick.p99(await load(freshIds(SAMPLE_64), 64, op.claim(ctx))),
      '@cxkit/dedup process() winner (claim + done marker)': async (ctx) =>
        pick.p99(await load(freshIds(SAMPLE_64), 64, op.process(ctx))),
      [RAW]: async (ctx) => pick.p99(await load(freshIds(SAMPLE_64), 64, op.setNxPx(ctx))),
      [BULL]: async (ctx) => pick.p99(await load(freshIds(SAMPLE_64), 64, op.bullmq(ctx))),
      [KAFKA]: async () => KAFKA_TWO_HOP_FLOOR_MS,
    },
  },
  {
    name: 'p99 latency added per message, concurrency 1',
    unit: 'ms',
    better: 'lower',
    baseline: CXKIT,
    candidates: {
      [CXKIT]: async (ctx) => pick.p99(await load(freshIds(SAMPLE_1), 1, op.claim(ctx))),
      '@cxkit/dedup process() winner (claim + done marker)': async (ctx) =>
        pick.p99(await load(freshIds(SAMPLE_1), 1, op.process(ctx))),
      [RAW]: async (ctx) => pick.p99(await load(freshIds(SAMPLE_1), 1, op.setNxPx(ctx))),
      [KAFKA]: async () => KAFKA_TWO_HOP_FLOOR_MS,
    },
  },
];

export default defineBench<Ctx>({
  title: '@cxkit/dedup: first-write-wins claims vs raw SET NX PX and BullMQ deduplication',
  description: [
    'One private redis-server on loopback. `@cxkit/dedup claim` = a Lua script (server TIME, owner token,',
    'lease, done-marker check) through an ioredis client with auto-pipelining; claims made in the same tick',
    'share one multi-id script call (a lone claim uses the single-id script), as auto-pipelining shares one',
    'write among the raw commands. Its floor is a raw',
    '`SET key 1 PX 30000 NX` on the same client, and the ceiling a pipelined SET NX PX, 1,000 per round trip',
    '(redis-benchmark -P style); a one-line SET NX PX script shows what any Lua script costs. BullMQ `Queue.add(name, data, { deduplication: { id } })` is the anchor',
    'users pick today (own connection; it also creates the job). Every sample uses fresh ids (winner path)',
    "except the losers row. Latency rows: p99 per call inside one sample; the Kafka row is the seed's",
    '200 ms two-hop polling floor, a constant for comparison. Ratios > 1 mean the baseline is better.',
  ].join(' '),
  rounds: 5,
  async setup() {
    const nodes = await startRedisNodes(1, { private: true });
    const url = nodes.urls[0]!;
    const redis = new Redis(url, { enableAutoPipelining: true });
    const plain = new Redis(url);
    const dedup = new Deduplicator({
      redis,
      namespace: 'bench:dedup',
      leaseMs: LEASE_MS,
      windowMs: WINDOW_MS,
      owner: 'bench',
    });
    const bullRedis = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue('bench-dedup', { connection: bullRedis });
    await dedup.verify();
    const trivialSha = (await plain.script('LOAD', TRIVIAL_SCRIPT)) as string;
    const ctx = { nodes, redis, plain, dedup, queue, bullRedis, trivialSha };
    // Warm up every path (script load, BullMQ script load, JIT).
    for (const path of [op.claim, op.process, op.setNxPx, op.trivialScript, op.bullmq])
      await load(freshIds(1_000), 16, path(ctx));
    return ctx;
  },
  async teardown(ctx) {
    await ctx.dedup.close();
    await ctx.queue.close();
    ctx.bullRedis.disconnect();
    ctx.redis.disconnect();
    ctx.plain.disconnect();
    await ctx.nodes.stop();
  },
  scenarios,
});
