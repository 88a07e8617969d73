import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore } from '../src/index.js';
import { counting, type Fixture, fixture, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

async function counted(options: object) {
  const db = counting(f.pool);
  const store = new IdempotencyStore({ db, table: uniqueTable(), ...options });
  f.stores.push(store);
  await store.migrate();
  db.count = 0;
  return { db, store };
}

describe('LRU front', () => {
  it('never outlives the record: a 1 s key is not served from memory after it expired', async () => {
    const { db, store } = await counted({
      ttlSeconds: 1,
      inProgressTtlMs: 500,
      localCache: { ttlMs: 60_000 },
    });
    let runs = 0;
    const handler = async () => ({ status: 200, body: ++runs });
    await store.execute('short', {}, handler);
    expect((await store.execute('short', {}, handler)).replayed).toBe(true);
    expect(db.count).toBe(2);
    await sleep(1_300);
    const after = await store.execute('short', {}, handler);
    expect(after).toEqual({ replayed: false, response: { status: 200, body: 2 } });
    expect(db.count).toBe(5); // claim (finds it expired), takeover, completion
  });

  it('is bounded by bytes and by count; evicted records are replayed from Postgres', async () => {
    const { db, store } = await counted({ localCache: { max: 100, maxBytes: 400 } });
    const big = 'x'.repeat(250);
    await store.execute('a', {}, async () => ({ body: big }));
    await store.execute('b', {}, async () => ({ body: big }));
    expect(db.count).toBe(4);
    await store.execute('b', {}, async () => ({ body: 'never' }));
    expect(db.count).toBe(4); // b is cached
    const a = await store.execute('a', {}, async () => ({ body: 'never' }));
    expect(a).toEqual({ replayed: true, response: { body: big } });
    expect(db.count).toBe(5); // a was evicted by b: one query

    const small = await counted({ localCache: { max: 2 } });
    for (const k of ['k1', 'k2', 'k3']) await small.store.execute(k, {}, async () => ({ body: k }));
    small.db.count = 0;
    await small.store.execute('k3', {}, async () => ({}));
    await small.store.execute('k1', {}, async () => ({}));
    expect(small.db.count).toBe(1);
  });

  it('holds only completed records: 5xx and failures are never cached', async () => {
    const { db, store } = await counted({});
    await store.execute('e', {}, async () => ({ status: 503 }));
    await store.execute('e', {}, async () => ({ status: 201 }));
    expect(db.count).toBe(5); // the retry: claim (finds it released), takeover, completion
    expect((await store.execute('e', {}, async () => ({ status: 500 }))).response).toEqual({ status: 201 });
    expect(db.count).toBe(5);
  });

  it('a cached key still validates the request: other key order hits, other content is 422, non-JSON is 400', async () => {
    const { db, store } = await counted({});
    await store.execute('v', { a: 1, b: { c: [1, 2] } }, async () => ({ body: 'ok' }));
    const count = db.count;
    expect((await store.execute('v', { b: { c: [1, 2] }, a: 1 }, async () => ({}))).replayed).toBe(true);
    await expect(store.execute('v', { a: 1, b: { c: [2, 1] } }, async () => ({}))).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    await expect(
      store.execute('v', { a: 1, b: { c: [1, 2] }, at: new Date() }, async () => ({})),
    ).rejects.toMatchObject({
      code: 'IDEMPOTENCY_REQUEST_INVALID',
      path: '$.at',
    });
    await expect(
      store.execute('v', { a: Number.NaN, b: { c: [1, 2] } }, async () => ({})),
    ).rejects.toMatchObject({
      code: 'IDEMPOTENCY_REQUEST_INVALID',
    });
    expect(db.count).toBe(count);
  });
});
