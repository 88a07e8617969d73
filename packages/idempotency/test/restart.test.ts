import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IdempotencyStore,
  isIdempotencyInProgressError,
  isIdempotencyStoreUnavailableError,
} from '../src/index.js';
import { type Fixture, fixture, newPool, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture({ private: true });
});
afterAll(() => f.close());

describe('Postgres restarted mid-storm', () => {
  it('no duplicate execution, no completed record lost, a clear retryable error during the outage', async () => {
    const table = uniqueTable();
    const pods: IdempotencyStore[] = [];
    for (let i = 0; i < 4; i++) {
      const pool = newPool(f.pg.url, 4);
      f.pools.push(pool);
      pods.push(
        await f.store({ db: pool, table, inProgressTtlMs: 8_000, unavailableRetryMs: 300, waitPollMs: 100 }),
      );
    }
    const keys = Array.from({ length: 60 }, (_, i) => `evt-${i}`);
    const runs = new Map<string, number>();
    const firstResponse = new Map<string, unknown>();
    const outage: unknown[] = [];
    const other: unknown[] = [];
    const seen = new Map<string, Set<string>>();

    const handlerFor = (key: string) => async () => {
      runs.set(key, (runs.get(key) ?? 0) + 1);
      await sleep(20 + Math.random() * 40);
      return { status: 200, body: { key, run: runs.get(key) } };
    };
    const call = async (pod: IdempotencyStore, key: string) => {
      for (let tries = 0; tries < 400; tries++) {
        try {
          const r = await pod.execute(key, { key }, handlerFor(key), { wait: 2_000 });
          if (!r.replayed) firstResponse.set(key, r.response);
          const set = seen.get(key) ?? new Set();
          set.add(JSON.stringify(r.response));
          seen.set(key, set);
          return;
        } catch (err) {
          if (isIdempotencyStoreUnavailableError(err)) outage.push(err);
          else if (!isIdempotencyInProgressError(err)) other.push(err);
          await sleep(100);
        }
      }
      throw new Error(`gave up on ${key}`);
    };
    // New events keep arriving for several seconds, so the outage hits first deliveries, repeats and
    // runs in flight alike.
    const workers = Array.from({ length: 24 }, async (_, w) => {
      for (const key of keys) {
        await call(pods[w % 4] as IdempotencyStore, key);
        await sleep(20);
      }
    });
    await sleep(600);
    const before = await f.pool
      .query(`SELECT count(*)::int AS n FROM "${table}" WHERE state = 'completed'`)
      .catch(() => ({ rows: [{ n: -1 }] }));
    // Down for longer than the stores' retry budget, so callers must see the outage; then restart().
    await f.pg.server?.stop();
    await sleep(1_500);
    await f.pg.restart();
    await Promise.all(workers);

    expect(other).toEqual([]);
    expect(outage.length).toBeGreaterThan(0);
    for (const err of outage)
      expect(err).toMatchObject({ status: 503, retryable: true, code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    expect(before.rows[0].n).toBeGreaterThan(0);
    for (const key of keys) {
      expect(runs.get(key), key).toBe(1);
      expect(seen.get(key)?.size, key).toBe(1);
    }
    const { rows } = await f.pool.query(
      `SELECT key, state, response_body::text AS body FROM "${table}" ORDER BY key`,
    );
    expect(rows).toHaveLength(60);
    for (const row of rows) {
      expect(row.state).toBe('completed');
      expect(JSON.parse(row.body)).toEqual((firstResponse.get(row.key) as { body: unknown }).body);
    }
  }, 90_000);
});
