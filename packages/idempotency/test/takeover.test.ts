import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, isIdempotencyInProgressError, type Queryable } from '../src/index.js';
import { counting, type Fixture, fixture, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

const state = async (table: string, key: string) =>
  (await f.pool.query(`SELECT state, attempts, claimed_from FROM "${table}" WHERE key = $1`, [key])).rows[0];

describe('takeover (claim finds a takeable record, one conditional UPDATE takes it)', () => {
  it('a released key retried from 8 pods at once: exactly one takeover runs the handler again', async () => {
    const table = uniqueTable();
    const pods = await f.pods(8, table, 2);
    const first = pods[0] as (typeof pods)[number];
    await first.store.execute('released', { n: 1 }, async () => ({ status: 503 }));
    expect((await state(table, 'released')).state).toBe('failed');

    let runs = 0;
    const handler = async (ctx: { attempt: number }) => {
      runs++;
      await sleep(50);
      return { status: 200, body: { attempt: ctx.attempt } };
    };
    // A transaction holding the row lock lets every pod's claim see the released run and queue its
    // takeover behind the lock; on release, the first takeover wins and the others find a live lease.
    const locker = await f.pool.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`, ['released']);
    const all = Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (pods[i % 8] as (typeof pods)[number]).store.execute('released', { n: 1 }, handler).then(
          (r) => r,
          (e: unknown) => e,
        ),
      ),
    );
    const blocked = `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%'`;
    for (let i = 0; i < 200 && (await f.pool.query(blocked)).rows[0].n < 8; i++) await sleep(25);
    expect((await f.pool.query(blocked)).rows[0].n).toBe(8);
    await locker.query('COMMIT');
    locker.release();
    const outcomes = await all;
    expect(runs).toBe(1);
    const ok = outcomes.filter((o) => !(o instanceof Error)) as { replayed: boolean; response: unknown }[];
    expect(ok.filter((o) => !o.replayed)).toHaveLength(1);
    for (const o of ok) expect(o.response).toEqual({ status: 200, body: { attempt: 2 } });
    for (const o of outcomes.filter((x) => x instanceof Error))
      expect(isIdempotencyInProgressError(o)).toBe(true);
    expect(await state(table, 'released')).toEqual({
      state: 'completed',
      attempts: 2,
      claimed_from: 'failed',
    });
  });

  it('a claim whose reply was lost is retried with the same token and recognised as its own run', async () => {
    const table = uniqueTable();
    let dropped = false;
    // Runs each statement; the first claim's reply is "lost" after it committed, as on a reset socket.
    const lossy: Queryable = {
      async query(text: string, params?: unknown[]) {
        const result = await f.pool.query(text, params);
        if (!dropped && text.startsWith('WITH claim')) {
          dropped = true;
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        }
        return result;
      },
    };
    const db = counting(lossy);
    const store = new IdempotencyStore({ db, table });
    f.stores.push(store);
    await store.migrate();
    db.count = 0;
    const attempts: number[] = [];
    const result = await store.execute('lost-reply', { a: 1 }, async (ctx) => {
      attempts.push(ctx.attempt);
      return { status: 201, body: 'once' };
    });
    expect(dropped).toBe(true);
    expect(result).toEqual({ replayed: false, response: { status: 201, body: 'once' } });
    expect(attempts).toEqual([1]);
    // claim (reply lost), claim again (finds its own run), takeover of its own lease, completion
    expect(db.count).toBe(4);
    expect(await state(table, 'lost-reply')).toEqual({ state: 'completed', attempts: 1, claimed_from: null });
  });
});
