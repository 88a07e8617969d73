import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore } from '../src/index.js';
import { counting, type Fixture, fixture, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

describe('smoke', () => {
  it('miss, replay, lru', async () => {
    const db = counting(f.pool);
    const table = uniqueTable();
    const s = new IdempotencyStore({ db, table });
    await s.migrate();
    db.count = 0;
    let runs = 0;
    const r1 = await s.execute('k1', { a: 1 }, async () => ({ status: 201, body: { id: ++runs } }));
    expect(r1).toEqual({ replayed: false, response: { status: 201, body: { id: 1 } } });
    expect(db.count).toBe(2);
    const r2 = await s.execute('k1', { a: 1 }, async () => ({ status: 201, body: { id: ++runs } }));
    expect(r2.replayed).toBe(true);
    expect(db.count).toBe(2);
    const s2 = new IdempotencyStore({ db, table });
    const r3 = await s2.execute('k1', { a: 1 }, async () => ({ status: 201, body: { id: ++runs } }));
    expect(r3).toEqual({ replayed: true, response: { status: 201, body: { id: 1 } } });
    expect(db.count).toBe(3);
    const storm = await Promise.all(
      Array.from({ length: 500 }, () =>
        s.execute('k2', { b: 2 }, async () => ({ status: 200, body: { id: ++runs } })),
      ),
    );
    expect(runs).toBe(2);
    expect(db.count).toBe(5);
    expect(storm.filter((r) => !r.replayed)).toHaveLength(1);
  });
});
