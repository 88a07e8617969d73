import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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

  /**
   * Whether a NOTIFY sent now wakes a waiter on a fresh key. The waiter polls far too rarely to wake on
   * its own, so only a live LISTEN connection answers within the probe's bound (a miss just retries).
   */
  async function notified(waiter: Waiter, pool: pg.Pool): Promise<boolean> {
    if (!(await waiter.listen())) return false;
    const key = randomUUID();
    const woken = waiter.wait(key, 60_000).then(() => true);
    await pool.query('SELECT pg_notify($1, $2)', [waiter.channel, key]);
    return Promise.race([woken, sleep(1_000).then(() => false)]);
  }

  it('a broken LISTEN connection is released once and listening resumes', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('error', () => {}); // idle connections killed with the LISTEN one are the pool's concern
    const acquired: pg.PoolClient[] = [];
    pool.on('acquire', (client) => acquired.push(client));
    const releases: (Error | boolean | undefined)[] = [];
    pool.on('release', (err, client) => {
      if (client === acquired[0]) releases.push(err);
    });
    const waiter = new Waiter(pool, 'cxkit_waiter_test', 60_000, 100);
    try {
      expect(await notified(waiter, pool)).toBe(true);
      expect(await killOtherBackends()).toBeGreaterThan(0);
      // listen() may still answer from the dead connection until pg reports it: wait for a real wake-up.
      await waitUntil('a notification to reach the waiter again', () => notified(waiter, pool));
      expect(releases).toHaveLength(1);
      expect(releases[0]).toBeInstanceOf(Error);
    } finally {
      await waiter.close();
      await pool.end();
    }
  });

  it('a pool of one connection is never asked for a LISTEN connection', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const waiter = new Waiter(pool, 'cxkit_waiter_test', 50, 100);
    try {
      expect(await waiter.listen()).toBe(false);
      expect(pool.totalCount).toBe(0);
    } finally {
      await waiter.close();
      await pool.end();
    }
  });

  it('a connection returned by close() keeps no listener of the store', async () => {
    // Room for LISTEN (a pool of one only polls); the one connection made is the LISTEN one, reused idle.
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
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
