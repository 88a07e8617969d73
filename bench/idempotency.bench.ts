// @cxkit/idempotency on one Postgres server against: the seed's plain INSERT-then-SELECT store,
// @node-idempotency/core (with a Postgres StorageAdapter written to its published interface, since
// the project ships only memory and Redis adapters), and the raw INSERT ... ON CONFLICT round trips as
// the physical floor.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdempotencyStore } from '@cxkit/idempotency';
import { type PostgresHandle, startPostgres } from '@cxkit/testkit';
import { Idempotency } from '@node-idempotency/core';
import pg from 'pg';
import {
  counting,
  nodeIdempotencyExecute,
  PlainStore,
  PostgresStorage,
  prepared,
  type Reply,
} from './idempotency/anchors.js';
import { defineBench, type Scenario } from './lib/define.js';
import { throughput } from './lib/measure.js';

const webhook = {
  session_id: 'session_8f4a2c91-e5b7-4d3a-9c12-7f8e3b2a1d00',
  contact_id: 'cust_449201',
  operation: 'UPDATE_NOTES',
  payload: { interaction_type: 'voice', agent_id: 'agent_8821', notes: 'Customer requested callback.' },
};
const fingerprint = 'fp-webhook';
const reply: Reply = { status: 200, body: { crm: 'rec-1' } };

type Db = ReturnType<typeof counting>;
interface Ctx {
  pg: PostgresHandle;
  pool: pg.Pool;
  cxkitDb: Db;
  cxkit: IdempotencyStore;
  cxkitNoLru: IdempotencyStore;
  /** maxBatch 1: every call sends its own statements (shows the per-call cost against the floor). */
  cxkitSolo: IdempotencyStore;
  cxkitSoloNoLru: IdempotencyStore;
  plainDb: Db;
  plain: PlainStore;
  nodeDb: Db;
  node: Idempotency;
  floorTable: string;
  seeded: { cxkit: string[]; plain: string[]; node: string[]; floor: string[] };
}

const run = randomBytes(3).toString('hex');
let seq = 0;
const nextKey = () => `k-${run}-${seq++}`;
const pick = (keys: string[], i: number) => keys[i % keys.length] as string;

type Call = (ctx: Ctx, key: string, handler: () => Promise<Reply>) => Promise<unknown>;
const calls: Record<'cxkit' | 'plain' | 'node', Call> = {
  cxkit: (ctx, key, handler) => ctx.cxkit.execute(key, webhook, handler).catch(() => undefined),
  plain: (ctx, key, handler) => ctx.plain.execute(key, fingerprint, handler),
  node: (ctx, key, handler) => nodeIdempotencyExecute(ctx.node, key, webhook, handler),
};
const dbOf = (ctx: Ctx, name: keyof typeof calls) =>
  name === 'cxkit' ? ctx.cxkitDb : name === 'plain' ? ctx.plainDb : ctx.nodeDb;

/** Storms per wall-time sample: 7 x 5 interleaved rounds = 35 storms per candidate. */
const STORMS = 7;
/**
 * The plain store pays a reconnect per repeat (see the description): at about 50 repeats a second, one
 * storm and 200 replays per sample already last seconds.
 */
const PLAIN_STORMS = 1;
const PLAIN_REPLAYS = 200;
const STORM_SIZE = 500;
/** `count` storms of 500 identical webhooks (a 5 ms business write each time the handler really runs). */
async function storms(
  ctx: Ctx,
  name: keyof typeof calls,
  count: number,
): Promise<{ queries: number; ms: number }> {
  const db = dbOf(ctx, name);
  const before = db.count;
  const start = performance.now();
  for (let s = 0; s < count; s++) {
    const key = nextKey();
    const handler = async () => {
      await sleep(5);
      return reply;
    };
    await Promise.all(Array.from({ length: STORM_SIZE }, () => calls[name](ctx, key, handler)));
  }
  return { queries: (db.count - before) / count, ms: (performance.now() - start) / count };
}

const immediate = async () => reply;
const SOLO = 'cxkit, maxBatch 1 (no shared statements)';
const floorInsert = (ctx: Ctx) =>
  `INSERT INTO ${ctx.floorTable} (key, fingerprint, state) VALUES ($1, $2, 'in_progress') ON CONFLICT (key) DO NOTHING`;
const floorMiss = async (ctx: Ctx, key: string) => {
  await prepared(ctx.pool, 'floor_ins', floorInsert(ctx), [key, fingerprint]);
  await prepared(
    ctx.pool,
    'floor_upd',
    `UPDATE ${ctx.floorTable} SET state = 'completed', response = $2 WHERE key = $1`,
    [key, JSON.stringify(reply)],
  );
};
const floorReplay = (ctx: Ctx, key: string) =>
  prepared(ctx.pool, 'floor_ins', floorInsert(ctx), [key, fingerprint]);

function pathScenarios(concurrency: number): Scenario<Ctx>[] {
  // Misses commit twice (WAL flush each); replays only read. Samples last about a second: shorter ones
  // (100 misses at c=1, 640 at c=32) swung with single WAL-flush stalls and idle-connection reopening.
  const misses = concurrency === 1 ? 600 : 4_000;
  const total = concurrency === 1 ? 2_000 : 8_000;
  return [
    {
      name: `miss (new key: claim + store response), c=${concurrency}`,
      unit: 'ops/s',
      better: 'higher',
      baseline: 'cxkit',
      candidates: {
        cxkit: (ctx) =>
          throughput(misses, concurrency, () => ctx.cxkit.execute(nextKey(), webhook, immediate)),
        [SOLO]: (ctx) =>
          throughput(misses, concurrency, () => ctx.cxkitSolo.execute(nextKey(), webhook, immediate)),
        'floor: raw INSERT ON CONFLICT + UPDATE': (ctx) =>
          throughput(misses, concurrency, () => floorMiss(ctx, nextKey())),
        'plain INSERT-then-SELECT': (ctx) =>
          throughput(misses, concurrency, () => calls.plain(ctx, nextKey(), immediate)),
        '@node-idempotency/core (Postgres adapter)': (ctx) =>
          throughput(misses, concurrency, () => calls.node(ctx, nextKey(), immediate)),
      },
    },
    {
      name: `replay from Postgres (LRU off), c=${concurrency}`,
      unit: 'ops/s',
      better: 'higher',
      baseline: 'cxkit',
      candidates: {
        cxkit: (ctx) =>
          throughput(total, concurrency, (i) =>
            ctx.cxkitNoLru.execute(pick(ctx.seeded.cxkit, i), webhook, immediate),
          ),
        [SOLO]: (ctx) =>
          throughput(total, concurrency, (i) =>
            ctx.cxkitSoloNoLru.execute(pick(ctx.seeded.cxkit, i), webhook, immediate),
          ),
        'floor: raw INSERT ON CONFLICT': (ctx) =>
          throughput(total, concurrency, (i) => floorReplay(ctx, pick(ctx.seeded.floor, i))),
        'plain INSERT-then-SELECT': (ctx) =>
          throughput(PLAIN_REPLAYS, concurrency, (i) =>
            calls.plain(ctx, pick(ctx.seeded.plain, i), immediate),
          ),
        '@node-idempotency/core (Postgres adapter)': (ctx) =>
          throughput(total, concurrency, (i) => calls.node(ctx, pick(ctx.seeded.node, i), immediate)),
      },
    },
  ];
}

// Query counts per storm do not vary, so that scenario samples 1 storm; wall time samples 7.
const stormCandidates = (metric: 'queries' | 'ms') => {
  const count = metric === 'queries' ? 1 : STORMS;
  return {
    cxkit: async (ctx: Ctx) => (await storms(ctx, 'cxkit', count))[metric],
    'plain INSERT-then-SELECT': async (ctx: Ctx) =>
      (await storms(ctx, 'plain', Math.min(count, PLAIN_STORMS)))[metric],
    '@node-idempotency/core (Postgres adapter)': async (ctx: Ctx) =>
      (await storms(ctx, 'node', count))[metric],
  };
};

export default defineBench<Ctx>({
  title: '@cxkit/idempotency',
  description: [
    'Webhook replay storm (seed 001, edge case 2): 500 identical concurrent calls per storm, fresh key per',
    'storm, 7 storms per wall-time sample x 5 rounds = 35 storms per candidate (1 per sample for the plain',
    'store); every caller is answered with',
    'the response or a 409. Then the miss and',
    'replay paths at concurrency 1 and 32 against the raw round trips (floor), and the LRU front',
    '(per sample: 600 misses or 2,000 replays at c=1, 4,000 misses or 8,000 replays at c=32; 200 replays for',
    'the plain store).',
    'All candidates share one Postgres server and one pg.Pool size (16). @node-idempotency/core runs with a',
    'Postgres StorageAdapter written to its published interface (setIfNotExists/get/set): the project',
    'publishes only memory and Redis adapters. Every candidate uses named prepared statements. The shared',
    'Postgres runs with fsync on, so misses (two commits) are bound by WAL flushes on this machine.',
    'cxkit coalesces the claims (and the completions) of calls made in the same turn of the event loop into',
    'one multi-row statement (maxBatch, default 64): at c=32 most calls share a round trip and a commit,',
    'which is how it passes the per-call floor; the "maxBatch 1" row sends every call on its own and shows',
    'the per-call cost of the store against the floor. A lone call always uses the single-row statements.',
    'The plain store meets every repeat as a unique violation, and pg.Pool discards a connection whose query',
    'failed, so each of its repeats also pays a reconnect (slow while both cores are busy).',
  ].join(' '),
  rounds: 5,
  async setup() {
    const handle = await startPostgres();
    const pool = new pg.Pool({ connectionString: handle.url, max: 16 });
    pool.on('error', () => {});
    const cxkitDb = counting(pool);
    const cxkit = new IdempotencyStore({ db: cxkitDb, table: `bench_idem_${run}`, preparedStatements: true });
    await cxkit.migrate();
    const cxkitNoLru = new IdempotencyStore({ db: pool, table: `bench_idem_${run}`, localCache: false });
    const cxkitSolo = new IdempotencyStore({ db: pool, table: `bench_idem_${run}`, maxBatch: 1 });
    const cxkitSoloNoLru = new IdempotencyStore({
      db: pool,
      table: `bench_idem_${run}`,
      localCache: false,
      maxBatch: 1,
    });
    const plainDb = counting(pool);
    const plain = new PlainStore(plainDb, `bench_plain_${run}`);
    await plain.migrate();
    const nodeDb = counting(pool);
    const storage = new PostgresStorage(nodeDb, `bench_node_${run}`);
    await storage.migrate();
    const node = new Idempotency(storage, { cacheTTLMS: 86_400_000 });
    const floorTable = `bench_floor_${run}`;
    await pool.query(
      `CREATE TABLE ${floorTable} (key text PRIMARY KEY, fingerprint text NOT NULL, state text NOT NULL, response json)`,
    );
    const ctx: Ctx = {
      pg: handle,
      pool,
      cxkitDb,
      cxkit,
      cxkitNoLru,
      cxkitSolo,
      cxkitSoloNoLru,
      plainDb,
      plain,
      nodeDb,
      node,
      floorTable,
      seeded: { cxkit: [], plain: [], node: [], floor: [] },
    };
    for (let i = 0; i < 300; i++) {
      const k = nextKey();
      await Promise.all([
        cxkit.execute(k, webhook, immediate),
        calls.plain(ctx, k, immediate),
        calls.node(ctx, k, immediate),
        floorMiss(ctx, k),
      ]);
      for (const list of Object.values(ctx.seeded)) list.push(k);
    }
    return ctx;
  },
  async teardown(ctx) {
    await ctx.cxkit.close();
    await ctx.cxkitNoLru.close();
    await ctx.cxkitSolo.close();
    await ctx.cxkitSoloNoLru.close();
    await ctx.pool.end();
    await ctx.pg.stop();
  },
  scenarios: [
    {
      name: 'storm of 500: queries per storm',
      unit: 'queries',
      better: 'lower',
      baseline: 'cxkit',
      candidates: stormCandidates('queries'),
    },
    {
      name: 'storm of 500: wall time per storm',
      unit: 'ms',
      better: 'lower',
      baseline: 'cxkit',
      candidates: stormCandidates('ms'),
    },
    ...pathScenarios(1),
    ...pathScenarios(32),
    {
      name: 'replay from the LRU front (no query), c=1',
      unit: 'ops/s',
      better: 'higher',
      baseline: 'cxkit LRU hit',
      candidates: {
        'cxkit LRU hit': (ctx) =>
          throughput(100_000, 1, () => ctx.cxkit.execute(pick(ctx.seeded.cxkit, 0), webhook, immediate)),
        'cxkit replay from Postgres (LRU off)': (ctx) =>
          throughput(400, 1, () => ctx.cxkitNoLru.execute(pick(ctx.seeded.cxkit, 0), webhook, immediate)),
      },
    },
  ],
});
