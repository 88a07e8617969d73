import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres, startPostgresReplication, waitUntil } from '../src/index.js';

async function query<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  it('gives a throwaway database on the shared server and drops it on stop', async () => {
    const db = await startPostgres();
    expect(['env', 'local']).toContain(db.source);
    const [row] = await query<{ name: string }>(db.url, 'SELECT current_database() AS name');
    expect(row!.name).toMatch(/^cxkit_/);
    await expect(db.kill()).rejects.toThrow(/private/);
    await db.stop();
    const admin = new URL(db.url);
    admin.pathname = '/postgres';
    const left = await query(admin.toString(), `SELECT 1 FROM pg_database WHERE datname = '${row!.name}'`);
    expect(left).toHaveLength(0);
  });

  it('private cluster: kill()+restart() keeps committed rows on the same port; pause() stalls queries', async () => {
    await using db = await startPostgres({ private: true });
    expect(db.source).toBe('initdb');
    await query(db.url, 'CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1), (2)');
    const port = db.port;
    await db.kill();
    await expect(query(db.url, 'SELECT 1')).rejects.toThrow();
    await db.restart();
    expect(db.port).toBe(port);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }]);

    const client = new pg.Client({ connectionString: db.url, query_timeout: 400 });
    await client.connect();
    await db.pause();
    await expect(client.query('SELECT 1')).rejects.toThrow(/timeout/i);
    await db.resume();
    await client.end().catch(() => {});
    expect(await query(db.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('replication: a streaming standby replays the primary and reports lag', async () => {
    const { primary, standby, stop } = await startPostgresReplication();
    try {
      await query(primary.url, 'CREATE TABLE r (v int); INSERT INTO r VALUES (42)');
      await waitUntil('standby replays the insert', async () => {
        const rows = await query<{ v: number }>(standby.url, 'SELECT v FROM r').catch(() => []);
        return rows[0]?.v === 42;
      });
      const [state] = await query<{ state: string }>(primary.url, 'SELECT state FROM pg_stat_replication');
      expect(state!.state).toBe('streaming');
      const [recovery] = await query<{ r: boolean }>(standby.url, 'SELECT pg_is_in_recovery() AS r');
      expect(recovery!.r).toBe(true);
    } finally {
      await stop();
    }
  });
});
