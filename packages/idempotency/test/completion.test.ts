import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, isIdempotencyStoreUnavailableError } from '../src/index.js';
import { type Fixture, fixture, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

/** A store on a pool whose statements time out after `ms` (server-side statement_timeout). */
async function timingOut(
  ms: number,
  options: { inProgressTtlMs?: number; unavailableRetryMs?: number } = {},
) {
  const table = uniqueTable();
  const pool = new pg.Pool({ connectionString: f.pg.url, statement_timeout: ms });
  pool.on('error', () => {});
  f.pools.push(pool);
  const store = new IdempotencyStore({ db: pool, table, ...options });
  f.stores.push(store);
  await store.migrate();
  return { table, store };
}

/** Holds the key's row lock from another transaction for `ms` (a report, a manual fix, a long sweep). */
async function holdRow(table: string, key: string, ms: number) {
  const locker = await f.pool.connect();
  await locker.query('BEGIN');
  await locker.query(`SELECT 1 FROM "${table}" WHERE key = $1 FOR UPDATE`, [key]);
  setTimeout(() => void locker.query('COMMIT').finally(() => locker.release()), ms);
}

const state = async (table: string) =>
  (await f.pool.query(`SELECT state, response_body::text AS body FROM "${table}"`)).rows[0];

describe('completion under transient Postgres errors', () => {
  it('a completion hitting statement_timeout behind a row lock is retried within the lease and stored', async () => {
    const { table, store } = await timingOut(200);
    let runs = 0;
    const result = await store.execute('k', {}, async () => {
      runs++;
      await holdRow(table, 'k', 500);
      return { status: 201, body: 'done' };
    });
    expect(result).toEqual({ replayed: false, response: { status: 201, body: 'done' } });
    expect(runs).toBe(1);
    expect(await state(table)).toEqual({ state: 'completed', body: '"done"' });
  });

  it('past the lease the caller gets the typed retryable error, not a raw pg error', async () => {
    const { table, store } = await timingOut(100, { inProgressTtlMs: 300, unavailableRetryMs: 0 });
    const err = await store
      .execute('k', {}, async () => {
        await holdRow(table, 'k', 1_000);
        return { status: 201 };
      })
      .catch((e: unknown) => e);
    expect(isIdempotencyStoreUnavailableError(err)).toBe(true);
    expect((err as Error).cause).toMatchObject({ code: '57014' });
  });
});
