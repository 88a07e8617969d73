import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, isIdempotencyInProgressError } from '../src/index.js';
import { counting, type Fixture, fixture, newPool, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

const webhook = {
  session_id: 'session_8f4a',
  contact_id: 'cust_449201',
  operation: 'UPDATE_NOTES',
  payload: { notes: 'callback' },
};

describe('webhook replay storm (seed 001, edge case 2)', () => {
  it('500 identical calls in one process: the handler runs once and the storm costs 2 queries', async () => {
    const db = counting(f.pool);
    const store = new IdempotencyStore({ db, table: uniqueTable() });
    await store.migrate();
    db.count = 0;
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(50);
      return { status: 200, body: { crmRecord: 'rec-1' } };
    };
    // Callers that may wait share the single run's response.
    const results = await Promise.all(
      Array.from({ length: 500 }, () => store.execute('storm-1', webhook, handler, { wait: 30_000 })),
    );
    expect(runs).toBe(1);
    expect(db.count).toBeLessThanOrEqual(2);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of results) expect(r.response).toEqual({ status: 200, body: { crmRecord: 'rec-1' } });

    // The platform flushes its queue again: served from the LRU front, no query at all.
    const again = await Promise.all(
      Array.from({ length: 500 }, () => store.execute('storm-1', webhook, handler)),
    );
    expect(again.every((r) => r.replayed)).toBe(true);
    expect(db.count).toBeLessThanOrEqual(2);
    expect(runs).toBe(1);

    // Callers that may not wait get the response (if the claim answered them) or a 409, still with no query.
    const before = db.count;
    const noWait = await Promise.all(
      Array.from({ length: 500 }, () =>
        store.execute('storm-1b', webhook, handler).then(
          (r) => r.response,
          (e: unknown) => e,
        ),
      ),
    );
    expect(runs).toBe(2);
    expect(db.count - before).toBeLessThanOrEqual(2);
    const conflicts = noWait.filter((o) => isIdempotencyInProgressError(o));
    const ok = noWait.filter((o) => !(o instanceof Error));
    expect(conflicts.length + ok.length).toBe(500);
    for (const o of ok) expect(o).toEqual({ status: 200, body: { crmRecord: 'rec-1' } });
  });

  it('500 calls over 4 stores on separate pools (4 pods): exactly one run, everyone else the same response or 409', async () => {
    const table = uniqueTable();
    const pods = await f.pods(4, table, 5);
    for (const p of pods) p.db.count = 0;
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(100);
      return { status: 201, body: { id: 'ticket-7' } };
    };
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        (pods[i % 4] as (typeof pods)[number]).store.execute('storm-2', webhook, handler).then(
          (r) => r.response,
          (e: unknown) => e,
        ),
      ),
    );
    expect(runs).toBe(1);
    const ok = outcomes.filter((o) => !(o instanceof Error));
    const conflicts = outcomes.filter((o) => isIdempotencyInProgressError(o));
    expect(ok.length + conflicts.length).toBe(500);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const o of ok) expect(o).toEqual({ status: 201, body: { id: 'ticket-7' } });
    for (const c of conflicts) expect(c).toMatchObject({ status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' });
    // Single-flight per pod: each pod's share of the storm costs at most 2 queries.
    for (const p of pods) expect(p.db.count).toBeLessThanOrEqual(2);
  });

  it("with wait: every one of 500 calls over 4 pods gets the single run's response", async () => {
    const table = uniqueTable();
    const pods = Array.from({ length: 4 }, () => {
      const pool = newPool(f.pg.url, 5);
      f.pools.push(pool);
      const store = new IdempotencyStore({ db: pool, table, waitPollMs: 100 });
      f.stores.push(store);
      return store;
    });
    await pods[0]?.migrate();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(200);
      return { status: 200, body: { run: runs } };
    };
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        (pods[i % 4] as IdempotencyStore).execute('storm-3', webhook, handler, { wait: 30_000 }),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    for (const r of results) expect(r.response).toEqual({ status: 200, body: { run: 1 } });
  });
});
