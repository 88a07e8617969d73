import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, isIdempotencyKeyReusedError } from '../src/index.js';
import { counting } from './helpers.js';

// PGlite is real Postgres compiled to WASM, in process: the `{ query }` shape without a pool.
let db: PGlite;
beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
});
afterAll(() => db.close());

describe('on PGlite (a `{ query }` db without a pool)', () => {
  it('miss, replay, 422, and 20 concurrent misses sharing one claim and one completion', async () => {
    const counted = counting(db);
    const store = new IdempotencyStore({ db: counted, table: 'idem_pglite', localCache: false });
    await store.migrate();
    counted.count = 0;
    const first = await store.execute('one', { a: 1 }, async () => ({ status: 201, body: { id: 7 } }));
    expect(first).toEqual({ replayed: false, response: { status: 201, body: { id: 7 } } });
    // PGlite reports affectedRows, so a completion needs no confirming read.
    expect(counted.count).toBe(2);
    const again = await store.execute('one', { a: 1 }, async () => ({ status: 500 }));
    expect(again).toEqual({ replayed: true, response: { status: 201, body: { id: 7 } } });
    await expect(store.execute('one', { a: 2 }, async () => ({}))).rejects.toSatisfy(
      isIdempotencyKeyReusedError,
    );

    counted.count = 0;
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.execute(`k${i}`, { i }, async () => ({ body: i }))),
    );
    for (const [i, r] of many.entries()) expect(r).toEqual({ replayed: false, response: { body: i } });
    expect(counted.count).toBe(2);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM idem_pglite WHERE state = 'completed'`,
    );
    expect(rows[0]!.n).toBe(21);
  });
});
