import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdempotencyStore,
  isIdempotencyInProgressError,
  isIdempotencyKeyReusedError,
  isIdempotencyLeaseLostError,
  type Queryable,
} from '../src/index.js';
import { counting, deferred, type Fixture, fixture, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

/** A statement-counted store on a fresh table (the counter sees one query per statement sent). */
async function counted(options: { maxBatch?: number; inProgressTtlMs?: number; db?: Queryable } = {}) {
  const { db: inner, ...rest } = options;
  const db = counting(inner ?? f.pool);
  const table = uniqueTable();
  const store = new IdempotencyStore({ ...rest, db, table });
  await store.migrate();
  f.stores.push(store);
  db.count = 0;
  db.texts.length = 0;
  return { db, store, table };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('calls made together share one claim and one completion statement', () => {
  it('40 new keys at once: 2 statements, each handler runs once and each caller gets its own response', async () => {
    const { db, store, table } = await counted();
    const runs = new Map<string, number>();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.execute(`k${i}`, { i }, async () => {
          runs.set(`k${i}`, (runs.get(`k${i}`) ?? 0) + 1);
          return { status: 201, body: { i } };
        }),
      ),
    );
    expect(db.count).toBe(2);
    expect([...runs.values()]).toEqual(Array(40).fill(1));
    for (const [i, r] of results.entries())
      expect(r).toEqual({ replayed: false, response: { status: 201, body: { i } } });
    const { rows } = await f.pool.query(
      `SELECT count(*)::int AS n FROM "${table}" WHERE state = 'completed' AND response_body->>'i' IS NOT NULL`,
    );
    expect(rows[0].n).toBe(40);
  });

  it('maxBatch bounds a statement; maxBatch 1 sends every call on its own', async () => {
    const bounded = await counted({ maxBatch: 16 });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => bounded.store.execute(`k${i}`, {}, async () => ({}))),
    );
    expect(bounded.db.count).toBe(6); // 16 + 16 + 8 claims, the same completions
    const alone = await counted({ maxBatch: 1 });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => alone.store.execute(`k${i}`, {}, async () => ({}))),
    );
    expect(alone.db.count).toBe(20);
    expect(alone.db.texts.some((t) => t.includes('unnest'))).toBe(false);
  });

  it('one batch, every verdict: new, replay, reused with another request, in progress elsewhere', async () => {
    const { db, store, table } = await counted();
    await store.execute('done', { v: 1 }, async () => ({ status: 200, body: 'stored' }));
    await store.execute('other', { v: 1 }, async () => ({ status: 200, body: 'kept' }));
    const elsewhere = new IdempotencyStore({ db: f.pool, table });
    f.stores.push(elsewhere);
    const release = deferred();
    const running = elsewhere.execute('busy', {}, async () => {
      await release.promise;
      return { status: 202 };
    });
    await sleep(50);
    // No LRU entry may answer for "done" or "other": the test is about the shared claim.
    const fresh = new IdempotencyStore({ db, table, localCache: false });
    f.stores.push(fresh);
    db.count = 0;
    const [created, replayed, reused, busy] = await Promise.all([
      settle(fresh.execute('new', { v: 1 }, async () => ({ status: 201 }))),
      settle(fresh.execute('done', { v: 1 }, async () => ({ status: 500 }))),
      settle(fresh.execute('other', { v: 2 }, async () => ({ status: 500 }))),
      settle(fresh.execute('busy', {}, async () => ({ status: 500 }))),
    ]);
    expect(db.count).toBe(2); // one claim for all four, one completion for "new"
    expect(created).toEqual({ ok: true, value: { replayed: false, response: { status: 201 } } });
    expect(replayed).toEqual({
      ok: true,
      value: { replayed: true, response: { status: 200, body: 'stored' } },
    });
    expect(!reused.ok && isIdempotencyKeyReusedError(reused.error)).toBe(true);
    expect(!busy.ok && isIdempotencyInProgressError(busy.error)).toBe(true);
    release.resolve();
    await running;
    const { rows } = await f.pool.query(
      `SELECT response_body::text AS body FROM "${table}" WHERE key = 'other'`,
    );
    expect(rows[0].body).toBe('"kept"');
  });

  it('one key twice in a batch with different requests: one run, the other caller gets 422', async () => {
    const { store } = await counted();
    let runs = 0;
    const outcomes = await Promise.all(
      [1, 2].map((v) =>
        settle(
          store.execute('twice', { v }, async () => {
            runs++;
            return { status: 200, body: v };
          }),
        ),
      ),
    );
    expect(runs).toBe(1);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    const failed = outcomes.find((o) => !o.ok);
    expect(failed && !failed.ok && isIdempotencyKeyReusedError(failed.error)).toBe(true);
  });

  /** The real pool, except that the first `times` shared statements fail with `error`. */
  function failingShared(times: number, error: Error) {
    const db = {
      failures: 0,
      query(text: string, params?: unknown[]) {
        if (text.includes('unnest') && db.failures < times) {
          db.failures++;
          return Promise.reject(error);
        }
        return f.pool.query(text, params);
      },
    };
    return db;
  }

  const eight = (store: IdempotencyStore) =>
    Promise.all(
      Array.from({ length: 8 }, (_, i) => store.execute(`k${i}`, { i }, async () => ({ body: i }))),
    );

  /** As `eight`, but every handler finishes once all eight have started: their completions share a statement. */
  const eightTogether = (store: IdempotencyStore) => {
    let started = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    return Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.execute(`k${i}`, { i }, async () => {
          if (++started === 8) open();
          await gate;
          return { body: i };
        }),
      ),
    );
  };

  it('a failed shared statement: every call runs alone and meets only its own outcome', async () => {
    // The shared statements (the claim, then the completion) fail once each, as a deadlock victim would.
    const flaky = failingShared(2, Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    const { db, store } = await counted({ db: flaky });
    const results = await eightTogether(store);
    expect(flaky.failures).toBe(2);
    for (const [i, r] of results.entries()) expect(r.response).toEqual({ body: i });
    // The shared claim failed, so each call claimed alone; completions share again once they can.
    expect(db.texts.filter((t) => t.startsWith('WITH claim AS'))).toHaveLength(8);
  });

  it('an unreachable server during a shared claim: the calls retry within their budget', async () => {
    const flaky = failingShared(1, new Error('Connection terminated unexpectedly'));
    const { store } = await counted({ db: flaky });
    const results = await eight(store);
    expect(flaky.failures).toBe(1);
    for (const [i, r] of results.entries()) expect(r).toEqual({ replayed: false, response: { body: i } });
  });

  it('two pods claiming the same 60 keys in opposite orders, 5 rounds: no deadlock, each key runs once', async () => {
    const table = uniqueTable();
    const [a, b] = await f.pods(2, table, 4);
    const deadlocks = async () =>
      (
        await f.pool.query(
          'SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      ).rows[0].n as number;
    const before = await deadlocks();
    const runs = new Map<string, number>();
    const handler = (key: string) => async () => {
      runs.set(key, (runs.get(key) ?? 0) + 1);
      await sleep(2);
      return { status: 200, body: key };
    };
    for (let round = 0; round < 5; round++) {
      const keys = Array.from({ length: 60 }, (_, i) => `r${round}-${i}`);
      const calls = [
        ...keys.map((k) => settle(a!.store.execute(k, {}, handler(k)))),
        ...[...keys].reverse().map((k) => settle(b!.store.execute(k, {}, handler(k), { wait: 5_000 }))),
      ];
      const outcomes = await Promise.all(calls);
      for (const o of outcomes) {
        if (!o.ok) expect(isIdempotencyInProgressError(o.error)).toBe(true);
      }
    }
    expect(runs.size).toBe(300);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(a!.db.count + b!.db.count).toBeLessThan(300 * 2);
    // Statistics reach pg_stat_database after the backend reports them (at most about a second later).
    await sleep(1_100);
    expect(await deadlocks()).toBe(before);
  });

  it('a completion batch with one run taken over: that run alone is rejected, the takeover result kept', async () => {
    const { store, table } = await counted({ inProgressTtlMs: 200 });
    const taker = new IdempotencyStore({ db: f.pool, table });
    f.stores.push(taker);
    const gate = deferred();
    const runs = Array.from({ length: 6 }, (_, i) =>
      settle(
        store.execute(`k${i}`, {}, async () => {
          await gate.promise;
          return { status: 200, body: 'late' };
        }),
      ),
    );
    await sleep(300); // every lease has run out; one key is taken over and completed by another pod
    await taker.execute('k3', {}, async () => ({ status: 200, body: 'taker' }));
    gate.resolve();
    const outcomes = await Promise.all(runs);
    outcomes.forEach((o, i) => {
      if (i === 3) expect(!o.ok && isIdempotencyLeaseLostError(o.error)).toBe(true);
      else expect(o.ok).toBe(true);
    });
    const { rows } = await f.pool.query(
      `SELECT key, response_body::text AS body FROM "${table}" ORDER BY key`,
    );
    expect(rows.map((r) => r.body)).toEqual(['"late"', '"late"', '"late"', '"taker"', '"late"', '"late"']);
  });

  it("a shared claim never waits on this process's own open transaction: the blocked call alone waits", async () => {
    const { store } = await counted();
    const tx = await f.pool.connect();
    try {
      await tx.query('BEGIN');
      // The transaction holds k2's uncommitted row, then needs k1 through the pool before it commits.
      await store.execute('k2', {}, async () => ({ status: 200, body: 'tx' }), { client: tx });
      const other = settle(store.execute('k2', {}, async () => ({ status: 500 })));
      const own = store.execute('k1', {}, async () => ({ body: 'k1' }));
      const hung = new Promise((resolve) => setTimeout(resolve, 5_000, 'hung'));
      expect(await Promise.race([own, hung])).toEqual({ replayed: false, response: { body: 'k1' } });
      await tx.query('COMMIT');
      const waited = await other;
      expect(waited.ok && waited.value).toEqual({ replayed: true, response: { status: 200, body: 'tx' } });
    } finally {
      tx.release();
    }
  });

  it('a shared completion NOTIFYs the waiters of every key it completes', async () => {
    // Both on the pool itself: a store NOTIFYs (and LISTENs) only on a pool-like db.
    const store = await f.store();
    const { table } = store.options;
    const waiting = new IdempotencyStore({ db: f.pool, table, waitPollMs: 10_000 });
    f.stores.push(waiting);
    const gate = deferred();
    const runs = ['a', 'b', 'c'].map((k) =>
      store.execute(k, {}, async () => {
        await gate.promise;
        return { status: 200, body: k };
      }),
    );
    await sleep(50);
    const started = performance.now();
    const waits = ['a', 'c'].map((k) =>
      waiting.execute(k, {}, async () => ({ status: 500 }), { wait: 8_000 }),
    );
    await sleep(100); // the waiters have marked their rows and listen
    gate.resolve(); // the three completions share one statement
    await Promise.all(runs);
    const answers = await Promise.all(waits);
    expect(answers.map((a) => a.response)).toEqual([
      { status: 200, body: 'a' },
      { status: 200, body: 'c' },
    ]);
    // A poll would have taken 10 s: the NOTIFY of the shared completion woke them.
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
