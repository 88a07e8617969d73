import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  IdempotencyStore,
  idempotencyKey,
  isConfigError,
  isIdempotencyInProgressError,
  isIdempotencyKeyReusedError,
  isStaleFenceError,
} from '../src/index.js';
import { counting, type Fixture, fixture, newPool, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

async function row(table: string, key: string) {
  const { rows } = await f.pool.query(
    `SELECT state, response_status, response_body::text AS body, attempts, fingerprint, updated_at FROM "${table}" WHERE key = $1`,
    [key],
  );
  return rows[0];
}

describe('IdempotencyStore round trips', () => {
  it('miss = 2 queries, replay from Postgres = 1, LRU hit = 0', async () => {
    const db = counting(f.pool);
    const table = uniqueTable();
    const store = new IdempotencyStore({ db, table });
    await store.migrate();
    db.count = 0;
    let runs = 0;
    const handler = async () => ({
      status: 201,
      headers: { 'x-id': 'a' },
      body: { id: ++runs, tags: [1, 'b'] },
    });
    const seen: string[] = [];
    for (const e of ['hit', 'miss', 'replay'] as const) store.on(e, () => seen.push(e));
    const off = store.on('hit', () => seen.push('extra'));
    const first = await store.execute('order-1', { b: 2, a: 1 }, handler);
    expect(first).toEqual({
      replayed: false,
      response: { status: 201, headers: { 'x-id': 'a' }, body: { id: 1, tags: [1, 'b'] } },
    });
    expect(db.count).toBe(2);

    // Key order of the request does not change the fingerprint.
    const hit = await store.execute('order-1', { a: 1, b: 2 }, handler);
    expect(hit).toEqual({ replayed: true, response: first.response });
    expect(db.count).toBe(2);

    const other = new IdempotencyStore({ db, table });
    const replay = await other.execute('order-1', { a: 1, b: 2 }, handler);
    expect(replay).toEqual({ replayed: true, response: first.response });
    expect(db.count).toBe(3);
    expect(runs).toBe(1);
    expect(Object.isFrozen(hit.response)).toBe(true);
    expect(seen).toEqual(['miss', 'hit', 'extra']);
    off();
    await store.execute('order-1', { a: 1, b: 2 }, handler);
    expect(seen).toEqual(['miss', 'hit', 'extra', 'hit']);
  });
});

describe('a db without affected-row counts', () => {
  it('confirms each completion with one more read and still stores and replays', async () => {
    const table = uniqueTable();
    const inner = counting(f.pool);
    // Only rows come back: no rowCount, no affectedRows.
    const db = { query: async (t: string, p?: unknown[]) => ({ rows: (await inner.query(t, p)).rows }) };
    const store = new IdempotencyStore({ db, table });
    await store.migrate();
    inner.count = 0;
    let runs = 0;
    const first = await store.execute('k', { a: 1 }, async () => ({ status: 201, body: ++runs }));
    expect(first).toEqual({ replayed: false, response: { status: 201, body: 1 } });
    expect(inner.count).toBe(3); // claim, completion, the read that confirms it
    expect((await row(table, 'k')).state).toBe('completed');
    // Unconfirmed by a count, the record is not put in the LRU front: Postgres answers the repeat.
    const again = await store.execute('k', { a: 1 }, async () => ({ status: 201, body: ++runs }));
    expect(again).toEqual({ replayed: true, response: { status: 201, body: 1 } });
    expect(inner.count).toBe(4);
    expect(runs).toBe(1);
  });
});

describe('replays write nothing', () => {
  it('a replay, a 409 and a 422 answered by Postgres assign no transaction id; a claim does', async () => {
    const store = await f.store({ localCache: false });
    const table = store.options.table;
    await store.execute('done', { a: 1 }, async () => ({ status: 200, body: 'ok' }));
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const running = store.execute('busy', { a: 1 }, async () => {
      await held;
      return { status: 200 };
    });
    await expect.poll(async () => (await row(table, 'busy'))?.state).toBe('in_progress');
    const before = (await f.pool.query(`SELECT key, xmin::text FROM "${table}" ORDER BY key`)).rows;
    const client = await f.pool.connect();
    // Each call runs in the caller's own transaction, whose transaction id (if any) can be read back.
    const xidOf = async (call: () => Promise<unknown>) => {
      await client.query('BEGIN');
      try {
        const outcome = await call().then(
          (r) => r,
          (e: { code?: string }) => e.code,
        );
        const { rows } = await client.query('SELECT pg_current_xact_id_if_assigned()::text AS xid');
        return { outcome, xid: rows[0].xid as string | null };
      } finally {
        await client.query('ROLLBACK');
      }
    };
    const handler = async () => ({ status: 500 });
    try {
      expect(await xidOf(() => store.execute('done', { a: 1 }, handler, { client }))).toEqual({
        outcome: { replayed: true, response: { status: 200, body: 'ok' } },
        xid: null,
      });
      expect(await xidOf(() => store.execute('busy', { a: 1 }, handler, { client }))).toEqual({
        outcome: 'IDEMPOTENCY_IN_PROGRESS',
        xid: null,
      });
      expect(await xidOf(() => store.execute('done', { a: 2 }, handler, { client }))).toEqual({
        outcome: 'IDEMPOTENCY_KEY_REUSED',
        xid: null,
      });
      const claimed = await xidOf(() => store.execute('new', { a: 1 }, async () => ({}), { client }));
      expect(claimed.outcome).toEqual({ replayed: false, response: {} });
      expect(claimed.xid).not.toBeNull();
    } finally {
      client.release();
    }
    // Nothing was rewritten: the existing rows are the same versions.
    expect((await f.pool.query(`SELECT key, xmin::text FROM "${table}" ORDER BY key`)).rows).toEqual(before);
    release();
    await running;
  });
});

describe('fingerprint mismatch', () => {
  it('same key with a different body -> 422 from the LRU and from Postgres, stored response unchanged', async () => {
    const store = await f.store();
    const table = store.options.table;
    await store.execute('k', { amount: 10 }, async () => ({ status: 200, body: { charged: 10 } }));
    const before = await row(table, 'k');
    const mismatches: string[] = [];
    store.on('mismatch', (e) => mismatches.push(e.key));

    const viaCache = await store
      .execute('k', { amount: 99 }, async () => ({ status: 200, body: { charged: 99 } }))
      .catch((e) => e);
    expect(isIdempotencyKeyReusedError(viaCache)).toBe(true);
    expect(viaCache.status).toBe(422);

    const fresh = new IdempotencyStore({ db: f.pool, table, localCache: false });
    const viaDb = await fresh
      .execute('k', { amount: 99 }, async () => ({ status: 200, body: { charged: 99 } }))
      .catch((e) => e);
    expect(viaDb.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await row(table, 'k')).toEqual(before);
    expect(mismatches).toEqual(['k']);
    const ok = await fresh.execute('k', { amount: 10 }, async () => ({ status: 500 }));
    expect(ok).toEqual({ replayed: true, response: { status: 200, body: { charged: 10 } } });
  });
});

describe('failure policy', () => {
  it('a thrown error releases the key; the retry runs again with the original payload, a new payload is 422', async () => {
    const store = await f.store();
    const seen: unknown[] = [];
    const boom = await store
      .execute('k', { n: 1 }, async (ctx) => {
        seen.push(ctx.attempt);
        throw new Error('crm down');
      })
      .catch((e) => e);
    expect(boom.message).toBe('crm down');
    expect((await row(store.options.table, 'k')).state).toBe('failed');
    const reused = await store.execute('k', { n: 2 }, async () => ({ status: 200 })).catch((e) => e);
    expect(isIdempotencyKeyReusedError(reused)).toBe(true);
    const retry = await store.execute('k', { n: 1 }, async (ctx) => {
      seen.push(ctx.attempt);
      return { status: 200, body: 'ok' };
    });
    expect(retry).toEqual({ replayed: false, response: { status: 200, body: 'ok' } });
    expect(seen).toEqual([1, 2]);
  });

  it('5xx responses release the key, 4xx responses are stored and replayed', async () => {
    const store = await f.store();
    let runs = 0;
    const r1 = await store.execute('five', {}, async () => ({ status: 503, body: { n: ++runs } }));
    expect(r1.replayed).toBe(false);
    const r2 = await store.execute('five', {}, async () => ({ status: 200, body: { n: ++runs } }));
    expect(r2).toEqual({ replayed: false, response: { status: 200, body: { n: 2 } } });

    const c1 = await store.execute('four', {}, async () => ({ status: 404, body: { n: ++runs } }));
    const c2 = await store.execute('four', {}, async () => ({ status: 200, body: { n: ++runs } }));
    expect(c2).toEqual({ replayed: true, response: c1.response });
    expect(runs).toBe(3);
  });

  it('storeFailures: true stores thrown errors and 5xx as final', async () => {
    const store = await f.store({ storeFailures: true });
    let runs = 0;
    const err = Object.assign(new Error('rejected by CRM'), { status: 502, code: 'CRM' });
    await expect(
      store.execute('k', {}, async () => {
        runs++;
        throw err;
      }),
    ).rejects.toBe(err);
    const replay = await store.execute('k', {}, async () => ({ status: 200 }));
    expect(replay).toEqual({
      replayed: true,
      response: {
        status: 502,
        headers: { 'content-type': 'application/problem+json' },
        body: { title: 'Error', status: 502, detail: 'rejected by CRM', code: 'CRM' },
      },
    });
    await store.execute('k5', {}, async () => ({ status: 500, body: 'x' }));
    expect((await store.execute('k5', {}, async () => ({ status: 200 }))).response).toEqual({
      status: 500,
      body: 'x',
    });
    expect(runs).toBe(1);
  });

  it('storeFailures: true stores whatever was thrown, also null, a string or an odd error object', async () => {
    const store = await f.store({ storeFailures: true, localCache: false });
    const problem = (status: number, detail: string) => ({
      replayed: true,
      response: {
        status,
        headers: { 'content-type': 'application/problem+json' },
        body: { title: 'Error', status, detail },
      },
    });
    const odd = { message: 'odd', code: 10n, name: 42 };
    for (const [key, thrown, detail] of [
      ['null', null, 'null'],
      ['text', 'CRM said no', 'CRM said no'],
      ['odd', odd, 'odd'],
    ] as const) {
      await expect(
        store.execute(key, {}, async () => {
          throw thrown;
        }),
      ).rejects.toBe(thrown);
      expect(await store.execute(key, {}, async () => ({ status: 200 }))).toEqual(problem(500, detail));
    }
  });
});

describe('idempotencyKey', () => {
  it('is sha256: + 64 hex of the identity with the time truncated to the second', () => {
    const a = idempotencyKey({ sessionId: 's-1', operation: 'UPDATE_NOTES', at: '2024-05-15T14:32:00.100Z' });
    const b = idempotencyKey({
      sessionId: 's-1',
      operation: 'UPDATE_NOTES',
      at: new Date('2024-05-15T14:32:00.900Z'),
    });
    const c = idempotencyKey({
      sessionId: 's-1',
      operation: 'UPDATE_NOTES',
      at: Date.parse('2024-05-15T14:32:01.000Z'),
    });
    const d = idempotencyKey({ sessionId: 's-2', operation: 'UPDATE_NOTES', at: '2024-05-15T14:32:00Z' });
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toBe(d);
    expect(() => idempotencyKey({ sessionId: '', operation: 'x', at: 0 })).toThrow(/sessionId/);
    expect(() => idempotencyKey({ sessionId: 's', operation: 'x', at: 'not a date' })).toThrow(/at/);
  });

  it('takes only ISO 8601 with Z or an explicit offset, so every pod derives the same key whatever its time zone', () => {
    const key = (at: string) => idempotencyKey({ sessionId: 's-1', operation: 'UPDATE_NOTES', at });
    const utc = key('2025-06-03T14:21:07.412Z');
    expect(key('2025-06-03T16:21:07.999+02:00')).toBe(utc);
    expect(key('2025-06-03T10:21:07-04:00')).toBe(utc);
    expect(key('2025-06-03T14:21:07.412345Z')).toBe(utc);
    for (const at of [
      '2025-06-03T14:21:07.412', // no offset: Date.parse reads it in the host's time zone
      '2025-06-03',
      'Tue, 3 Jun 2025 14:21:07 GMT',
      '06/03/2025 14:21:07Z',
      '2025-02-30T00:00:00Z', // Date.parse rolls it over to 2 March
      '2025-06-03T24:00:00Z',
      '2025-06-03T14:21:07+25:00',
    ]) {
      expect(() => key(at), at).toThrow(/^invalid idempotency key: at: /);
    }
  });
});

describe('options', () => {
  it('rejects bad options with a ConfigError naming the field', () => {
    const bad = [
      [{ db: {} }, 'db'],
      [{ db: f.pool, table: 'x; drop table y' }, 'table'],
      [{ db: f.pool, ttlSeconds: 0 }, 'ttlSeconds'],
      [{ db: f.pool, inProgressTtlMs: 5 }, 'inProgressTtlMs'],
      // A record must outlive the lease of a run that holds it.
      [{ db: f.pool, ttlSeconds: 30, inProgressTtlMs: 30_000 }, 'inProgressTtlMs'],
      [{ db: f.pool, ttlSeconds: 1 }, 'inProgressTtlMs'],
      [{ db: f.pool, localCache: { max: -1 } }, 'localCache.max'],
      [{ db: f.pool, maxResponseBytes: 1.5 }, 'maxResponseBytes'],
      [{ db: f.pool, logger: { info() {} } }, 'logger'],
    ] as const;
    for (const [options, field] of bad) {
      let caught: unknown;
      try {
        new IdempotencyStore(options as never);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect(caught).toBeInstanceOf(TypeError);
      expect(isConfigError(caught)).toBe(true);
      expect((caught as ConfigError).field).toBe(field);
    }
  });
});

describe('fence', () => {
  it('a caller with a lower fence than the recorded one is rejected and writes nothing', async () => {
    const store = await f.store({ localCache: false });
    await store.execute('k', {}, async () => ({ status: 500 }), { fence: 7 });
    const stale = await store.execute('k', {}, async () => ({ status: 200 }), { fence: 6n }).catch((e) => e);
    expect(isStaleFenceError(stale)).toBe(true);
    expect(stale).toMatchObject({ fence: '6', recordedFence: '7', status: 409 });
    expect((await row(store.options.table, 'k')).state).toBe('failed');
    const ok = await store.execute('k', {}, async () => ({ status: 200 }), { fence: '8' });
    expect(ok.replayed).toBe(false);
    await expect(store.execute('k2', {}, async () => ({}), { fence: -1 })).rejects.toThrow(/fence/);
  });
});

describe('transactional mode', () => {
  it('claim, business write and stored response commit or roll back together', async () => {
    const store = await f.store();
    const table = store.options.table;
    await f.pool.query('CREATE TABLE IF NOT EXISTS notes (id serial primary key, note text)');
    const client = await f.pool.connect();
    try {
      await client.query('BEGIN');
      await store.execute(
        'tx-1',
        { note: 'a' },
        async () => {
          await client.query(`INSERT INTO notes (note) VALUES ('tx-1')`);
          return { status: 201 };
        },
        { client },
      );
      await client.query('ROLLBACK');
      expect(await row(table, 'tx-1')).toBeUndefined();

      await client.query('BEGIN');
      const res = await store.execute(
        'tx-1',
        { note: 'a' },
        async () => {
          await client.query(`INSERT INTO notes (note) VALUES ('tx-1')`);
          return { status: 201, body: 'stored' };
        },
        { client },
      );
      expect(res.replayed).toBe(false);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await row(table, 'tx-1')).state).toBe('completed');
    const notes = await f.pool.query(`SELECT count(*)::int AS n FROM notes WHERE note = 'tx-1'`);
    expect(notes.rows[0].n).toBe(1);
    const replay = await store.execute('tx-1', { note: 'a' }, async () => ({ status: 500 }));
    expect(replay).toEqual({ replayed: true, response: { status: 201, body: 'stored' } });
  });
});

describe('in-process joiners of a run that released the key', () => {
  // A caller in another pod would find the key released and run the handler itself; so does a caller
  // that joined this process's run.
  it('a released 5xx is not handed to a waiting joiner as a replay: it claims and runs again', async () => {
    const store = await f.store();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(200);
      return runs === 1 ? { status: 503, body: 'crm down' } : { status: 200, body: 'ok' };
    };
    const [first, second] = await Promise.all([
      store.execute('k', { a: 1 }, handler),
      store.execute('k', { a: 1 }, handler, { wait: 5_000 }),
    ]);
    expect(first).toEqual({ replayed: false, response: { status: 503, body: 'crm down' } });
    expect(second).toEqual({ replayed: false, response: { status: 200, body: 'ok' } });
    expect(runs).toBe(2);
  });

  it("the leader's thrown error is not handed to a waiting joiner: it claims and runs again", async () => {
    const store = await f.store();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(200);
      if (runs === 1) throw new Error('leader-only failure');
      return { status: 200, body: 'ok' };
    };
    const [first, second] = await Promise.allSettled([
      store.execute('k', { a: 1 }, handler),
      store.execute('k', { a: 1 }, handler, { wait: 5_000 }),
    ]);
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'leader-only failure' } });
    expect(second).toEqual({
      status: 'fulfilled',
      value: { replayed: false, response: { status: 200, body: 'ok' } },
    });
  });

  it('a stored response is still shared, and a joiner without wait still gets 409 while the run goes on', async () => {
    const store = await f.store();
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(200);
      return { status: 201, body: runs };
    };
    const [first, second, third] = await Promise.allSettled([
      store.execute('k', { a: 1 }, handler),
      store.execute('k', { a: 1 }, handler, { wait: 5_000 }),
      store.execute('k', { a: 1 }, handler),
    ]);
    expect(first).toEqual({
      status: 'fulfilled',
      value: { replayed: false, response: { status: 201, body: 1 } },
    });
    expect(second).toEqual({
      status: 'fulfilled',
      value: { replayed: true, response: { status: 201, body: 1 } },
    });
    expect(isIdempotencyInProgressError((third as PromiseRejectedResult).reason)).toBe(true);
    expect(runs).toBe(1);
  });
});

describe('wait', () => {
  it('a waiting caller is woken by NOTIFY when the run completes and gets the response', async () => {
    const table = uniqueTable();
    const a = await f.store({ table });
    const b = new IdempotencyStore({ db: f.pool, table, waitPollMs: 5_000 });
    f.stores.push(b);
    let release!: () => void;
    const running = a.execute(
      'w',
      {},
      () => new Promise<{ status: number }>((r) => (release = () => r({ status: 200 }))),
    );
    await new Promise((r) => setTimeout(r, 100));
    const conflicts: number[] = [];
    b.on('conflict', (e) => conflicts.push(e.retryAfterMs));
    const waiting = b.execute('w', {}, async () => ({ status: 500 }), { wait: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    release();
    const [x, y] = await Promise.all([running, waiting]);
    // Woken by the notification, not by the 5 s poll.
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(x.replayed).toBe(false);
    expect(y).toEqual({ replayed: true, response: { status: 200 } });
    expect(conflicts.length).toBeGreaterThan(0);
  });

  it('without LISTEN (a plain query function) waits poll; an abort signal ends the wait', async () => {
    const table = uniqueTable();
    const db = { query: (t: string, p?: unknown[]) => f.pool.query(t, p) };
    const a = new IdempotencyStore({ db, table, waitPollMs: 20 });
    await a.migrate();
    let release!: () => void;
    const running = a.execute('p', {}, () => new Promise<object>((r) => (release = () => r({ body: 1 }))));
    await new Promise((r) => setTimeout(r, 50));
    const b = new IdempotencyStore({ db, table, waitPollMs: 20 });
    const ac = new AbortController();
    const aborted = b.execute('p', {}, async () => ({}), { wait: 10_000, signal: ac.signal }).catch((e) => e);
    setTimeout(() => ac.abort(new Error('client went away')), 100);
    expect((await aborted).message).toBe('client went away');
    const polled = b.execute('p', {}, async () => ({}), { wait: 10_000 });
    setTimeout(() => release(), 100);
    expect(await polled).toEqual({ replayed: true, response: { body: 1 } });
    await running;
  });

  it('on a pool of one connection waits poll instead of holding it for LISTEN; the store stays usable', async () => {
    const table = uniqueTable();
    const single = newPool(f.pg.url, 1);
    f.pools.push(single);
    const a = new IdempotencyStore({ db: single, table, waitPollMs: 50 });
    f.stores.push(a);
    await a.migrate();
    const other = new IdempotencyStore({ db: f.pool, table });
    f.stores.push(other);
    let release!: () => void;
    const running = other.execute(
      'k',
      {},
      () => new Promise<object>((r) => (release = () => r({ body: 1 }))),
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const waiting = a.execute('k', {}, async () => ({}), { wait: 2_000 });
    setTimeout(() => release(), 200);
    expect(await waiting).toEqual({ replayed: true, response: { body: 1 } });
    expect(Date.now() - started).toBeLessThan(1_500);
    await running;
    const later = await a.execute('k2', {}, async () => ({ status: 201 }));
    expect(later).toEqual({ replayed: false, response: { status: 201 } });
    expect(single.totalCount - single.idleCount).toBe(0); // nothing holds the only connection
  });
});

describe('sweep', () => {
  it('deletes expired rows in bounded batches; a sweeper runs it on an interval and stops', async () => {
    const store = await f.store();
    const table = store.options.table;
    for (let i = 0; i < 25; i++) await store.execute(`s${i}`, {}, async () => ({ status: 200 }));
    await f.pool.query(`UPDATE "${table}" SET expires_at = now() - interval '1 second' WHERE key <> 's0'`);
    const sweeps: unknown[] = [];
    store.on('sweep', (e) => sweeps.push(e));
    expect(await store.sweep({ batchSize: 10, maxBatches: 2 })).toEqual({ deleted: 20, batches: 2 });
    // Past the largest timer delay Node would run it every millisecond.
    for (const bad of [0, 1.5, 2 ** 31]) expect(() => store.startSweeper(bad)).toThrow(/intervalMs/);
    const sweeper = store.startSweeper(20, { batchSize: 10 });
    await new Promise((r) => setTimeout(r, 300));
    sweeper.stop();
    const { rows } = await f.pool.query(`SELECT key FROM "${table}"`);
    expect(rows.map((r) => r.key)).toEqual(['s0']);
    expect(sweeps.length).toBeGreaterThan(1);
    // An expired key is a new key: it runs again.
    await f.pool.query(`UPDATE "${table}" SET expires_at = now() - interval '1 second'`);
    const fresh = new IdempotencyStore({ db: f.pool, table });
    expect((await fresh.execute('s0', { other: true }, async () => ({ status: 201 }))).replayed).toBe(false);
  });
});

describe('migrate', () => {
  it('is idempotent and safe to run concurrently', async () => {
    const pools = Array.from({ length: 6 }, () => newPool(f.pg.url, 1));
    f.pools.push(...pools);
    // Catalog collisions between concurrent CREATEs are timing-dependent: several fresh tables.
    for (let round = 0; round < 10; round++) {
      const table = uniqueTable();
      const stores = pools.map((db) => new IdempotencyStore({ db, table }));
      await Promise.all(stores.map((s) => s.migrate()));
      await Promise.all(stores.map((s) => s.migrate()));
      const { rows } = await f.pool.query(
        `SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1`,
        [table],
      );
      expect(rows.map((r) => r.indexname)).toEqual([`${table}_expires_at_idx`, `${table}_pkey`]);
    }
  });

  it('refuses a table of the earlier stored layout (fingerprint as hex text) and writes nothing to it', async () => {
    const table = uniqueTable();
    // Layout 1 (0.1.x).
    await f.pool.query(
      `CREATE TABLE "${table}" (key text PRIMARY KEY, fingerprint text NOT NULL, fingerprint_version smallint NOT NULL,
        state text NOT NULL, response_status integer, response_headers json, response_body json, lease_owner uuid,
        lease_expires_at timestamptz, fence bigint, attempts integer NOT NULL DEFAULT 1, claimed_from text,
        contended boolean NOT NULL DEFAULT false, expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    const store = new IdempotencyStore({ db: f.pool, table });
    const err = await store.migrate().catch((e) => e);
    expect(isConfigError(err)).toBe(true);
    expect(err.field).toBe('table');
    expect(err.message).toMatch(/another @cxkit\/idempotency version \(fingerprint text\)/);
    // Without migrate(), the statements themselves fail on the column type.
    await expect(store.execute('k', {}, async () => ({}))).rejects.toThrow(/bytea/);
    expect((await f.pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n).toBe(0);
  });

  it('judges the schema-qualified table it was given, not a same-named one on the search path', async () => {
    const name = uniqueTable();
    const schema = `S_${name}`; // mixed case: only a quoted name finds it
    await f.pool.query(`CREATE SCHEMA "${schema}"`);
    const layout1 = (t: string) =>
      f.pool.query(
        `CREATE TABLE ${t} (key text PRIMARY KEY, fingerprint text NOT NULL, expires_at timestamptz NOT NULL)`,
      );
    // A layout-1 table of the same name in public does not make the schema's table refused...
    await layout1(`"${name}"`);
    const qualified = new IdempotencyStore({ db: f.pool, table: `${schema}.${name}` });
    await qualified.migrate();
    expect(await qualified.execute('k', {}, async () => ({ status: 201 }))).toEqual({
      replayed: false,
      response: { status: 201 },
    });
    // ...and a layout-2 table in public does not let a layout-1 table in the schema through.
    const other = uniqueTable();
    await new IdempotencyStore({ db: f.pool, table: other }).migrate();
    await layout1(`"${schema}"."${other}"`);
    const err = await new IdempotencyStore({ db: f.pool, table: `${schema}.${other}` })
      .migrate()
      .catch((e) => e);
    expect(isConfigError(err)).toBe(true);
    expect(err.message).toMatch(/\(fingerprint text\)/);
  });
});
