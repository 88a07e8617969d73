import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnTs } from '@cxkit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IdempotencyStore,
  isIdempotencyInProgressError,
  isIdempotencyLeaseLostError,
  isStaleFenceError,
  type Queryable,
} from '../src/index.js';
import { deferred, type Fixture, fixture, sleep, uniqueTable } from './helpers.js';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

async function stored(table: string, key: string) {
  const { rows } = await f.pool.query(
    `SELECT state, response_body::text AS body, attempts, claimed_from FROM "${table}" WHERE key = $1`,
    [key],
  );
  return rows[0];
}

describe('lease expiry and takeover', () => {
  it('a handler that hangs past its lease is taken over by a repeat in the same process, not answered 409 forever', async () => {
    const store = await f.store({ table: uniqueTable(), inProgressTtlMs: 300 });
    let hungSignal: AbortSignal | undefined;
    // Ignores its signal and never settles: only the lease frees the key.
    const hung = store
      .execute('k', { v: 1 }, (ctx) => {
        hungSignal = ctx.signal;
        return new Promise<never>(() => {});
      })
      .catch((e: unknown) => e);
    await sleep(50);
    const early = await store
      .execute('k', { v: 1 }, async () => ({ status: 200, body: 'early' }))
      .catch((e) => e);
    expect(isIdempotencyInProgressError(early)).toBe(true);
    await sleep(400);
    expect(hungSignal?.aborted).toBe(true);
    // Two identical repeats after the lease: one takes the run over, the other shares its outcome.
    let runs = 0;
    const repeats = await Promise.all(
      [1, 2].map(() =>
        store.execute(
          'k',
          { v: 1 },
          async (ctx) => {
            runs++;
            return { status: 200, body: `taken over@${ctx.attempt}` };
          },
          { wait: 2_000 },
        ),
      ),
    );
    expect(runs).toBe(1);
    expect(repeats.map((r) => r.response.body)).toEqual(['taken over@2', 'taken over@2']);
    void hung;
  });

  it('a stalled run is taken over after its lease; its late completion is rejected and does not overwrite', async () => {
    const table = uniqueTable();
    const a = await f.store({ table, inProgressTtlMs: 300 });
    const warnings: string[] = [];
    const noop = () => {};
    const logger = {
      debug: noop,
      info: noop,
      error: noop,
      warn: (_o: object, msg?: string) => warnings.push(msg ?? ''),
    };
    const b = new IdempotencyStore({ db: f.pool, table, inProgressTtlMs: 5_000, logger });
    f.stores.push(b);
    const expired: unknown[] = [];
    b.on('lease-expired', (e) => expired.push(e));
    const gate = deferred();
    let firstSignal: AbortSignal | undefined;
    const first = a
      .execute('k', { v: 1 }, async (ctx) => {
        firstSignal = ctx.signal;
        await gate.promise;
        return { status: 200, body: 'first' };
      })
      .catch((e: unknown) => e);
    await sleep(50);
    const early = await b
      .execute('k', { v: 1 }, async () => ({ status: 200, body: 'early' }))
      .catch((e) => e);
    expect(isIdempotencyInProgressError(early)).toBe(true);
    await sleep(400);
    expect(firstSignal?.aborted).toBe(true);

    const second = await b.execute('k', { v: 1 }, async (ctx) => ({
      status: 200,
      body: `second@${ctx.attempt}`,
    }));
    expect(second).toEqual({ replayed: false, response: { status: 200, body: 'second@2' } });
    expect(expired).toEqual([{ key: 'k', attempt: 2 }]);
    expect(warnings).toEqual(['idempotency lease expired; taking the run over']);

    gate.resolve();
    const late = await first;
    expect(isIdempotencyLeaseLostError(late)).toBe(true);
    expect(await stored(table, 'k')).toMatchObject({
      state: 'completed',
      body: '"second@2"',
      attempts: 2,
      claimed_from: 'lease_expired',
    });
    const replay = await a.execute('k', { v: 1 }, async () => ({ status: 200, body: 'third' }));
    expect(replay.response.body).toBe('second@2');
  });

  it('ctx.signal read only after the lease ran out is already aborted with the lease-lost reason', async () => {
    const store = await f.store({ inProgressTtlMs: 150 });
    let late: AbortSignal | undefined;
    let early: AbortSignal | undefined;
    await store
      .execute('late-reader', {}, async (ctx) => {
        await sleep(250);
        late = ctx.signal;
        return { status: 200 };
      })
      .catch(() => undefined); // the completion may find the lease taken: not what this test checks
    expect(late?.aborted).toBe(true);
    expect(isIdempotencyLeaseLostError(late?.reason)).toBe(true);
    await store
      .execute('early-reader', {}, async (ctx) => {
        early = ctx.signal;
        expect(early.aborted).toBe(false);
        await sleep(250);
        return { status: 200 };
      })
      .catch(() => undefined);
    expect(early?.aborted).toBe(true);
    expect(isIdempotencyLeaseLostError(early?.reason)).toBe(true);
  });

  it('ctx.signal counts the lease from when the claim was sent, not from when its reply arrived', async () => {
    const table = uniqueTable();
    // The claim's reply arrives 400 ms after the server ran it (a remote primary, a busy event loop).
    const slowReplies: Queryable = {
      async query(text: string, params?: unknown[]) {
        const result = await f.pool.query(text, params);
        if (text.startsWith('WITH claim')) await sleep(400);
        return result;
      },
    };
    const store = new IdempotencyStore({ db: slowReplies, table, inProgressTtlMs: 1_000, localCache: false });
    f.stores.push(store);
    await store.migrate();
    const sent = Date.now();
    let abortedAfter = 0;
    await store
      .execute('k', {}, async (ctx) => {
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        abortedAfter = Date.now() - sent;
        return { status: 200 };
      })
      .catch(() => undefined);
    // The server's lease ends 1 000 ms after the claim ran; a signal 400 ms later would let the handler
    // run on while another pod takes the key over.
    expect(abortedAfter).toBeGreaterThanOrEqual(950);
    expect(abortedAfter).toBeLessThan(1_250);
  });

  it("with fences: the stale holder's late completion gets StaleFenceError", async () => {
    const table = uniqueTable();
    const a = await f.store({ table, inProgressTtlMs: 200 });
    const gate = deferred();
    const first = a
      .execute(
        'k',
        {},
        async () => {
          await gate.promise;
          return { status: 200, body: 'fence-5' };
        },
        { fence: 5 },
      )
      .catch((e: unknown) => e);
    await sleep(400);
    await a.execute('k', {}, async () => ({ status: 200, body: 'fence-6' }), { fence: 6 });
    gate.resolve();
    const late = await first;
    expect(isStaleFenceError(late)).toBe(true);
    expect(late).toMatchObject({ code: 'STALE_FENCE', fence: '5', recordedFence: '6' });
    expect((await stored(table, 'k')).body).toBe('"fence-6"');
  });

  it('a completion that waits on a concurrent takeover is judged on the committed row: rejected, the newer run stays', async () => {
    const store = await f.store({ localCache: false });
    const table = store.options.table;
    const taker = await f.pool.connect();
    try {
      const late = store
        .execute('k', {}, async () => {
          // Another run takes the row over and holds its lock: the completion's own snapshot still
          // shows this run as the owner, so only the re-check after the wait can reject it.
          await taker.query('BEGIN');
          await taker.query(
            `UPDATE "${table}" SET lease_owner = gen_random_uuid(), attempts = attempts + 1 WHERE key = 'k'`,
          );
          return { status: 200, body: 'late' };
        })
        .catch((e: unknown) => e);
      await expect
        .poll(
          async () =>
            (
              await f.pool.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
                [`UPDATE "${table}" SET state%`],
              )
            ).rows[0].n,
        )
        .toBe(1);
      await taker.query('COMMIT');
      expect(isIdempotencyLeaseLostError(await late)).toBe(true);
    } finally {
      taker.release();
    }
    const { rows } = await f.pool.query(
      `SELECT state, attempts, response_body::text AS body, updated_at FROM "${table}" WHERE key = 'k'`,
    );
    expect(rows[0]).toEqual({ state: 'in_progress', attempts: 2, body: null, updated_at: null });
  });

  it('a record whose expiry passes under a live lease is not taken over or swept', async () => {
    const table = uniqueTable();
    const a = await f.store({ table, localCache: false });
    const b = new IdempotencyStore({ db: f.pool, table, localCache: false });
    f.stores.push(b);
    const gate = deferred();
    let runs = 0;
    const first = a.execute('k', { v: 1 }, async () => {
      runs++;
      await gate.promise;
      return { status: 200, body: 'once' };
    });
    await expect.poll(async () => (await stored(table, 'k'))?.state).toBe('in_progress');
    // A row whose expiry fell before its lease end (written by an earlier version, or by hand).
    await f.pool.query(`UPDATE "${table}" SET expires_at = now() - interval '1 second'`);
    const second = await b
      .execute('k', { v: 1 }, async () => {
        runs++;
        return { status: 200, body: 'twice' };
      })
      .catch((e: unknown) => e);
    const swept = await b.sweep();
    gate.resolve();
    expect(isIdempotencyInProgressError(second)).toBe(true);
    expect(swept.deleted).toBe(0);
    expect(await first).toEqual({ replayed: false, response: { status: 200, body: 'once' } });
    expect(runs).toBe(1);
  });

  it('a takeover near the end of the record keeps the record alive until its lease ends', async () => {
    const table = uniqueTable();
    const store = await f.store({ table, localCache: false });
    await store.execute('k', { v: 1 }, async () => ({ status: 503 })); // released
    await f.pool.query(`UPDATE "${table}" SET expires_at = now() + interval '200 milliseconds'`);
    const gate = deferred();
    const retry = store.execute('k', { v: 1 }, async () => {
      await gate.promise;
      return { status: 200, body: 'retry' };
    });
    await expect.poll(async () => (await stored(table, 'k')).attempts).toBe(2);
    const { rows } = await f.pool.query(
      `SELECT expires_at >= lease_expires_at AS outlives FROM "${table}" WHERE key = 'k'`,
    );
    expect(rows[0].outlives).toBe(true);
    await sleep(300); // past the old expiry, well within the lease
    const other = new IdempotencyStore({ db: f.pool, table, localCache: false });
    f.stores.push(other);
    const third = await other.execute('k', { v: 1 }, async () => ({ status: 200 })).catch((e: unknown) => e);
    expect(isIdempotencyInProgressError(third)).toBe(true);
    gate.resolve();
    expect((await retry).response).toEqual({ status: 200, body: 'retry' });
  });

  it('a pod SIGKILLed mid-run: the next call takes over after the lease and runs once more', async () => {
    const table = uniqueTable();
    const store = await f.store({ table, inProgressTtlMs: 1_000 });
    const file = fileURLToPath(new URL('./fixtures/crash-holder.ts', import.meta.url));
    const child = spawnTs(file, [f.pg.url, table, 'crash-1', '1000']);
    try {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      const started = Date.now();
      while (!out.includes('claimed')) {
        if (Date.now() - started > 30_000 || child.exitCode !== null)
          throw new Error(`holder did not claim: ${out}`);
        await sleep(50);
      }
      child.kill('SIGKILL');
      await once(child, 'exit');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    let runs = 0;
    const result = await store.execute(
      'crash-1',
      { webhook: 1 },
      async (ctx) => {
        runs++;
        return { status: 200, body: { attempt: ctx.attempt } };
      },
      { wait: 10_000 },
    );
    expect(runs).toBe(1);
    expect(result).toEqual({ replayed: false, response: { status: 200, body: { attempt: 2 } } });
    expect(await stored(table, 'crash-1')).toMatchObject({ state: 'completed', attempts: 2 });
  });
});
