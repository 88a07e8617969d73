import { setTimeout as sleep } from 'node:timers/promises';
import { type PostgresHandle, startPostgres, waitUntil } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRevisionConflictError, PostgresCheckpointStore, StaleFenceError } from '../src/index.js';
import { conformance } from './support/conformance.js';
import type { Harness } from './support/harness.js';
import { seedVariables, v3 } from './support/schemas.js';

let database: PostgresHandle;
let pool: pg.Pool;
let second: pg.Pool;
const table = 'checkpoints_test';

beforeAll(async () => {
  database = await startPostgres();
  pool = new pg.Pool({ connectionString: database.url, max: 8 });
  second = new pg.Pool({ connectionString: database.url, max: 4 });
  await new PostgresCheckpointStore({ db: pool, schema: v3, table }).migrate();
});

afterAll(async () => {
  // pool.end() resolves before its sockets close; the database drop below may still reach one of them.
  for (const p of [pool, second]) p?.on('error', () => {});
  await pool?.end();
  await second?.end();
  await database?.stop();
});

conformance(
  'PostgreSQL',
  (): Harness => ({
    store: (schema, options) => new PostgresCheckpointStore({ db: pool, schema, table, ...options }),
    otherStore: (schema, options) => new PostgresCheckpointStore({ db: second, schema, table, ...options }),
    corrupt: async (sessionId, raw) => {
      await pool.query(
        `UPDATE ${table} r SET payload = $2 FROM ${table}_sessions s
       WHERE r.session_id = $1 AND s.session_id = $1 AND r.revision = s.revision`,
        [sessionId, raw],
      );
    },
    rawLatest: async (sessionId) => {
      const { rows } = await pool.query(
        `SELECT r.payload FROM ${table} r JOIN ${table}_sessions s
       ON s.session_id = r.session_id AND s.revision = r.revision WHERE s.session_id = $1`,
        [sessionId],
      );
      return rows[0]?.payload;
    },
  }),
);

/**
 * Resolves once `count` saves wait on locks behind `blocker` (a backend pid): the first on the blocker
 * itself, the others queued behind that one.
 */
async function blockedBy(blocker: number, count: number): Promise<void> {
  await waitUntil(
    `${count} saves waiting on the session row`,
    async () => {
      const { rows } = await pool.query<{ direct: number; waiting: number }>(
        `SELECT count(*) FILTER (WHERE $1 = ANY(pg_blocking_pids(pid)))::int AS direct,
           count(*) FILTER (WHERE cardinality(pg_blocking_pids(pid)) > 0)::int AS waiting
         FROM pg_stat_activity WHERE datname = current_database()`,
        [blocker],
      );
      return rows[0]!.direct >= 1 && rows[0]!.waiting >= count;
    },
    10_000,
    20,
  );
}

describe('PostgreSQL specifics', () => {
  it('a repeat sent while the first run is still committing is saved once and answered as it', async () => {
    const store = new PostgresCheckpointStore({ db: pool, schema: v3, table });
    // The repeat comes through another pod's store (a store coalesces one session's saves of a tick).
    const other = new PostgresCheckpointStore({ db: second, schema: v3, table });
    const id = `overlap_${Math.random().toString(36).slice(2)}`;
    const base = { region: 'eu-west-1', flowVersion: 1 };
    await store.save(id, { ...base, checkpointId: 'chk_0', variables: seedVariables });
    // Both runs of each save start (and take their snapshots) while the session row is locked, as when
    // the first run waits on a synchronous standby and the caller's timeout sends it again.
    const overlapping = async (save: Parameters<typeof store.save>[1]) => {
      const blocker = await pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM ${table}_sessions WHERE session_id = $1 FOR UPDATE`, [id]);
        const pid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const runs = [store.save(id, save), other.save(id, save)];
        await blockedBy(pid, 2);
        await blocker.query('COMMIT');
        return await Promise.all(runs);
      } finally {
        await blocker.query('ROLLBACK').catch(() => {});
        blocker.release();
      }
    };
    const checked = await overlapping({
      ...base,
      checkpointId: 'chk_1',
      variables: seedVariables,
      expectedRevision: 1,
    });
    expect(checked.map((r) => r.revision)).toEqual([2, 2]);
    expect(checked[1]).toEqual(checked[0]);
    const unchecked = await overlapping({
      ...base,
      checkpointId: 'chk_2',
      variables: { ...seedVariables, retry_count: 1 },
    });
    expect(unchecked.map((r) => r.revision)).toEqual([3, 3]);
    expect(unchecked[1]).toEqual(unchecked[0]);
    expect((await store.history(id)).map((h) => h.revision)).toEqual([3, 2, 1]);
  });

  it('a save written by an earlier version (no digest) in between: the repeat of an older save is saved anew', async () => {
    const store = new PostgresCheckpointStore({ db: pool, schema: v3, table });
    const id = `mixed_${Math.random().toString(36).slice(2)}`;
    const a = { region: 'eu-west-1', flowVersion: 1, checkpointId: 'chk_a', variables: seedVariables };
    expect((await store.save(id, a)).revision).toBe(1);
    // What a process of the earlier version writes: revision 2, its session digest left as it was.
    await pool.query(`UPDATE ${table}_sessions SET revision = 2 WHERE session_id = $1`, [id]);
    await pool.query(
      `INSERT INTO ${table} (session_id, revision, payload)
       SELECT session_id, 2, replace(payload, 'chk_a', 'chk_b') FROM ${table} WHERE session_id = $1 AND revision = 1`,
      [id],
    );
    expect((await store.save(id, a)).revision).toBe(3);
  });

  it('a migrate() that fails leaves its connection usable: no transaction stays open', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const broken = `broken_${Math.random().toString(36).slice(2)}`;
    try {
      // A view where the sessions table should be: its expiry index cannot be created.
      await client.query(`CREATE VIEW "${broken}_sessions" AS SELECT 'x'::text AS session_id`);
      await expect(
        new PostgresCheckpointStore({ db: client, schema: v3, table: broken }).migrate(),
      ).rejects.toThrow();
      expect((await client.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    } finally {
      await client.query(`DROP VIEW IF EXISTS "${broken}_sessions"`).catch(() => {});
      await client.end();
    }
  });

  it('migrate() is idempotent under concurrency and sweep() removes expired sessions with their rows', async () => {
    const store = new PostgresCheckpointStore({
      db: pool,
      schema: v3,
      table,
      ttlSeconds: 1,
      maxAgeSeconds: 1,
    });
    await store.migrate();
    await store.save('sweep_me', { region: 'eu-west-1', flowVersion: 1, variables: seedVariables });
    await pool.query(
      `UPDATE ${table}_sessions SET expires_at = now() - interval '1 second' WHERE session_id = 'sweep_me'`,
    );
    expect(await store.sweep({ limit: 10_000 })).toBeGreaterThanOrEqual(1);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE session_id = 'sweep_me'`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('stores exactly the kept rows: steady trimming, a lowered or raised history, a start-over after expiry', async () => {
    const id = `rows_${Math.random().toString(36).slice(2)}`;
    const base = { region: 'eu-west-1', flowVersion: 1, variables: seedVariables };
    const store = (history: number) => new PostgresCheckpointStore({ db: pool, schema: v3, table, history });
    const stored = async () =>
      (
        await pool.query<{ revision: string }>(
          `SELECT revision FROM ${table} WHERE session_id = $1 ORDER BY revision DESC`,
          [id],
        )
      ).rows.map((r) => Number(r.revision));
    for (let i = 0; i < 20; i++) await store(3).save(id, base);
    expect(await stored()).toEqual([20, 19, 18, 1]);
    for (let i = 0; i < 3; i++) await store(10).save(id, base);
    expect(await stored()).toEqual([23, 22, 21, 20, 19, 18, 1]);
    await store(2).save(id, base);
    expect(await stored()).toEqual([24, 23, 1]);
    await store(1).save(id, base);
    expect(await stored()).toEqual([25, 1]);
    await pool.query(
      `UPDATE ${table}_sessions SET expires_at = now() - interval '1 second' WHERE session_id = $1`,
      [id],
    );
    expect((await store(3).save(id, base)).revision).toBe(1);
    expect(await stored()).toEqual([1]);
    for (let i = 0; i < 4; i++) await store(3).save(id, base);
    expect(await stored()).toEqual([5, 4, 3, 1]);
  });

  it('starts over when a store with a shorter maxAgeSeconds finds an older session', async () => {
    const id = `max_age_${Math.random().toString(36).slice(2)}`;
    const other = `${id}_cas`;
    const base = { region: 'eu-west-1', flowVersion: 1, variables: seedVariables };
    const store = (ttlSeconds: number, maxAgeSeconds: number) =>
      new PostgresCheckpointStore({ db: pool, schema: v3, table, ttlSeconds, maxAgeSeconds });
    const long = store(600, 3_600);
    for (const sessionId of [id, id, other, other]) await long.save(sessionId, { ...base, fence: 9 });
    await sleep(2_100);
    // Still there under the first store's TTL, but past this store's hard age: gone, then new.
    expect((await long.latest(id)).revision).toBe(2);
    const short = store(2, 2);
    const saved = await short.save(id, { ...base, fence: 1 });
    expect(saved.revision).toBe(1);
    expect(await short.latest(id)).toMatchObject({ status: 'restored', revision: 1 });
    const { rows } = await pool.query(
      `SELECT r.revision, extract(epoch FROM s.expires_at - now()) * 1000 AS ttl_ms
       FROM ${table}_sessions s JOIN ${table} r ON r.session_id = s.session_id WHERE s.session_id = $1`,
      [id],
    );
    expect(rows.map((r) => Number(r.revision))).toEqual([1]);
    expect(Number(rows[0].ttl_ms)).toBeGreaterThan(0);
    expect(Number(rows[0].ttl_ms)).toBeLessThanOrEqual(2_000);
    await expect(short.save(id, { ...base, fence: 0 })).rejects.toThrow(StaleFenceError);
    // To that store the old session is gone for reads and compare-and-set alike.
    expect((await short.latest(other)).status).toBe('absent');
    const stale = await short.save(other, { ...base, expectedRevision: 2 }).catch((e) => e);
    expect(stale).toMatchObject({ code: 'REVISION_CONFLICT', actualRevision: 0 });
    expect((await short.save(other, { ...base, expectedRevision: 0 })).revision).toBe(1);
  });

  describe('a save with expectedRevision while delete() or sweep() removes its session', () => {
    const base = { region: 'eu-west-1', flowVersion: 1, variables: seedVariables };
    /**
     * Runs `remove` in a transaction held open until a save on another connection waits for it (or is
     * answered without waiting: one that needs no row lock).
     */
    const racing = async (
      id: string,
      expectedRevision: number,
      remove: (store: PostgresCheckpointStore<unknown, unknown>) => Promise<unknown>,
    ) => {
      const tx = await pool.connect();
      try {
        await tx.query('BEGIN');
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await remove(new PostgresCheckpointStore({ db: tx, schema: v3, table }));
        const store = new PostgresCheckpointStore({ db: pool, schema: v3, table });
        let answered = false;
        const outcome = store
          .save(id, { ...base, expectedRevision })
          .catch((e) => e)
          .finally(() => {
            answered = true;
          });
        await waitUntil('the save waits for the removal', async () => {
          if (answered) return true;
          const blocked = await pool.query(
            'SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
            [rows[0]!.pid],
          );
          return blocked.rows.length > 0;
        });
        await tx.query('COMMIT');
        return await outcome;
      } finally {
        tx.release();
      }
    };
    const sessionRows = async (id: string) =>
      (await pool.query(`SELECT revision FROM ${table}_sessions WHERE session_id = $1`, [id])).rows;

    it('conflicts with a delete(), as it would after it, instead of starting the session over', async () => {
      const id = `race_delete_${Math.random().toString(36).slice(2)}`;
      const store = new PostgresCheckpointStore({ db: pool, schema: v3, table });
      for (let i = 0; i < 3; i++) await store.save(id, base);
      const outcome = await racing(id, 3, (tx) => tx.delete(id));
      expect(isRevisionConflictError(outcome)).toBe(true);
      expect(outcome).toMatchObject({ expectedRevision: 3, actualRevision: 0 });
      expect(await sessionRows(id)).toEqual([]);
      expect((await store.latest(id)).status).toBe('absent');
    });

    it('conflicts with a sweep() of the expired session instead of starting it over', async () => {
      const id = `race_sweep_${Math.random().toString(36).slice(2)}`;
      const store = new PostgresCheckpointStore({ db: pool, schema: v3, table });
      for (let i = 0; i < 3; i++) await store.save(id, base);
      await pool.query(
        `UPDATE ${table}_sessions SET expires_at = now() - interval '1 second' WHERE session_id = $1`,
        [id],
      );
      const outcome = await racing(id, 3, (tx) => tx.sweep({ limit: 10_000 }));
      expect(isRevisionConflictError(outcome)).toBe(true);
      expect(outcome).toMatchObject({ expectedRevision: 3, actualRevision: 0 });
      expect(await sessionRows(id)).toEqual([]);
    });
  });

  describe('prepared statements', () => {
    const prepared = async (client: pg.Client) =>
      (
        await client.query<{ name: string }>(
          "SELECT name FROM pg_prepared_statements WHERE name LIKE 'cxkit_checkpoint_%' ORDER BY name",
        )
      ).rows.map((r) => r.name);
    const roundTrip = async (
      store: PostgresCheckpointStore<unknown, NonNullable<(typeof v3)['__input']>>,
    ) => {
      const id = `prepared_${Math.random().toString(36).slice(2)}`;
      const base = { region: 'eu-west-1', flowVersion: 1, variables: seedVariables };
      await store.save(id, base);
      await store.save(id, { ...base, expectedRevision: 1 });
      const stale = await store.save(id, { ...base, expectedRevision: 1 }).catch((e) => e);
      expect(stale.name).toBe('RevisionConflictError');
      expect((await store.latest(id)).revision).toBe(2);
      expect((await store.history(id)).map((h) => h.revision)).toEqual([2, 1]);
    };

    it('prepares each statement once per connection on a pg.Client', async () => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const store = new PostgresCheckpointStore({ db: client, schema: v3, table });
        await roundTrip(store);
        await roundTrip(store);
        expect(await prepared(client)).toEqual([
          expect.stringMatching(/^cxkit_checkpoint_history_[0-9a-f]{16}$/),
          expect.stringMatching(/^cxkit_checkpoint_latest_[0-9a-f]{16}$/),
          expect.stringMatching(/^cxkit_checkpoint_save_[0-9a-f]{16}$/),
          expect.stringMatching(/^cxkit_checkpoint_state_[0-9a-f]{16}$/),
        ]);
        // Another table on the same connection gets its own names, not the first store's statements.
        const other = new PostgresCheckpointStore({ db: client, schema: v3, table: `${table}_other` });
        await other.migrate();
        await roundTrip(other);
        expect(await prepared(client)).toHaveLength(8);
      } finally {
        await client.end();
      }
    });

    it('sends plain text with preparedStatements: false, and to clients without connect()', async () => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await roundTrip(
          new PostgresCheckpointStore({ db: client, schema: v3, table, preparedStatements: false }),
        );
        const textOnly = { query: (text: string, params?: unknown[]) => client.query(text, params) };
        await roundTrip(new PostgresCheckpointStore({ db: textOnly, schema: v3, table }));
        expect(await prepared(client)).toEqual([]);
      } finally {
        await client.end();
      }
    });
  });
});
