import { startPostgres, waitUntil } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Waiter } from '../src/waiter.js';

const terminateOthers =
  'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()';

describe('Waiter LISTEN connection', () => {
  let db: Awaited<ReturnType<typeof startPostgres>>;
  beforeAll(async () => {
    db = await startPostgres();
  });
  afterAll(() => db?.stop());

  async function killOtherBackends(): Promise<number> {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: number }>(
        terminateOthers.replace('count(*)::int AS n', 'count(pg_terminate_backend(pid))::int AS n'),
      );
      return rows[0]!.n;
    } finally {
      await admin.end();
    }
  }

  it('a broken LISTEN connection is released once and listening resumes', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => {}); // idle connections killed with the LISTEN one are the pool's concern
    const waiter = new Waiter(pool, 'cxkit_waiter_test', 50, 100);
    try {
      expect(await waiter.listen()).toBe(true);
      expect(await killOtherBackends()).toBeGreaterThan(0);
      await waitUntil(
        'the waiter to notice the broken connection',
        async () => (await waiter.listen()) === true,
      );
      const after = await pool.query<{ n: number }>(terminateOthers);
      expect(after.rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await waiter.close();
      await pool.end();
    }
  });

  it('a connection returned by close() keeps no listener of the store', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const poolErrors: Error[] = [];
    pool.on('error', (err) => poolErrors.push(err));
    const waiter = new Waiter(pool, 'cxkit_waiter_test', 50, 100);
    try {
      expect(await waiter.listen()).toBe(true);
      await waiter.close();
      const client = await pool.connect();
      expect(client.listenerCount('notification')).toBe(0);
      client.release();
      // The idle connection dies: the pool's own idle listener handles it, nothing throws.
      expect(await killOtherBackends()).toBe(1);
      await waitUntil('the pool to report its idle connection', async () => poolErrors.length === 1);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
