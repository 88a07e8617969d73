import { startPostgres, startPostgresReplication, waitUntil } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, postgresReplicationCheck } from '../src/index.js';

type Replication = Awaited<ReturnType<typeof startPostgresReplication>>;

describe('postgresReplicationCheck on a primary with a streaming standby', () => {
  let repl: Replication;
  let primary: pg.Pool;
  let standby: pg.Pool;

  beforeAll(async () => {
    repl = await startPostgresReplication();
    primary = new pg.Pool({ connectionString: repl.primary.url, max: 3 });
    standby = new pg.Pool({ connectionString: repl.standby.url, max: 3 });
    await primary.query('CREATE TABLE ticks (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
    await waitUntil(
      'standby streaming and caught up',
      async () => {
        const { rows } = await standby.query(`SELECT to_regclass('ticks') IS NOT NULL AS ok`);
        return rows[0].ok === true;
      },
      30_000,
    );
  });

  afterAll(async () => {
    await standby?.end();
    await primary?.end();
    await repl?.stop();
  });

  it('reports lag per standby on the primary and on the standby itself', async () => {
    const monitor = new HealthMonitor({
      checks: {
        database_replication: postgresReplicationCheck({ db: primary, maxLagMs: 5_000, minStandbys: 1 }),
        standby_replication: postgresReplicationCheck({ db: standby, maxLagMs: 5_000 }),
      },
    });
    // A standby applying a just-received WAL record can show a momentary lag spike: allow a retry.
    await waitUntil(
      'both views healthy',
      async () => (await monitor.check()).status === 'healthy',
      20_000,
      100,
    );
    const report = monitor.report();
    const onPrimary = report.components.database_replication!;
    expect(onPrimary).toMatchObject({
      status: 'healthy',
      role: 'primary',
      max_allowed_lag_ms: 5_000,
      synchronous: false,
    });
    expect(onPrimary.replication_lag_ms).toEqual(expect.any(Number));
    expect(onPrimary.standbys).toEqual([
      expect.objectContaining({ state: 'streaming', sync_state: 'async', replay_lag_ms: expect.any(Number) }),
    ]);
    expect(report.components.standby_replication).toMatchObject({
      status: 'healthy',
      role: 'standby',
      replication_lag_ms: expect.any(Number),
      replay_paused: false,
    });
    await monitor.close();
  });

  it('counts physical standbys only: a logical replication (CDC) connection is no standby', async () => {
    // What Debezium or a subscription opens: a walsender connected to a database.
    // `replication` is a connection parameter node-postgres passes on (missing from its types).
    const cdc = new pg.Client({
      connectionString: repl.primary.url,
      replication: 'database',
    } as pg.ClientConfig);
    await cdc.connect();
    try {
      const { rows } = await primary.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_replication',
      );
      expect(rows[0]!.n).toBe(2);
      const check = postgresReplicationCheck({ db: primary, maxLagMs: 5_000, minStandbys: 1 });
      const result = await check.check(AbortSignal.timeout(5_000));
      expect(result.standbys).toEqual([expect.objectContaining({ state: 'streaming' })]);
    } finally {
      await cdc.end();
    }
  });

  it('pausing replay on the standby while the primary writes pushes lag over maxLagMs -> unhealthy', async () => {
    const maxLagMs = 300;
    const monitor = new HealthMonitor({
      checks: {
        database_replication: postgresReplicationCheck({ db: standby, maxLagMs }),
        primary_view: postgresReplicationCheck({ db: primary, maxLagMs }),
      },
      timeoutMs: 5_000,
    });
    // Under load the standby may briefly trail the setup writes: start from a caught-up standby.
    await waitUntil(
      'standby caught up before the pause',
      async () => (await monitor.check()).components.database_replication!.status === 'healthy',
      20_000,
      100,
    );
    await standby.query('SELECT pg_wal_replay_pause()');
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await primary.query('INSERT INTO ticks DEFAULT VALUES');
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await waitUntil(
        'standby lag over maxLagMs',
        async () => (await monitor.check()).components.database_replication!.status === 'unhealthy',
        20_000,
        100,
      );
      const report = monitor.report();
      const lagging = report.components.database_replication!;
      expect(report.status).toBe('unhealthy');
      expect(lagging.replication_lag_ms as number).toBeGreaterThan(maxLagMs);
      expect(lagging).toMatchObject({ replay_paused: true, max_allowed_lag_ms: maxLagMs });
      expect(lagging.replication_lag_bytes as number).toBeGreaterThan(0);
      expect(String(lagging.error)).toMatch(/replay lag [\d.]+ ms > 300 ms/);
      // The primary sees the same standby falling behind through pg_stat_replication.
      await waitUntil(
        'primary reports replay lag',
        async () => (await monitor.check()).components.primary_view!.status === 'unhealthy',
        20_000,
        100,
      );
      expect(monitor.report().components.primary_view!.replication_lag_ms as number).toBeGreaterThan(
        maxLagMs,
      );
    } finally {
      writing = false;
      await writer;
      await standby.query('SELECT pg_wal_replay_resume()');
    }
    await waitUntil(
      'standby caught up and trusted again (3 passes)',
      async () => (await monitor.check()).components.database_replication!.status === 'healthy',
      20_000,
      100,
    );
    expect(monitor.report().components.database_replication).toMatchObject({ replay_paused: false });
    await monitor.close();
  });
});

describe('postgresReplicationCheck while Postgres hangs', () => {
  let db: Awaited<ReturnType<typeof startPostgres>>;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await startPostgres({ private: true }); // pause() needs a server of its own
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => {});
  });

  afterAll(async () => {
    await db?.resume();
    await pool?.end();
    await db?.stop();
  });

  it('keeps at most one query outstanding in the pool, however many rounds time out', async () => {
    const monitor = new HealthMonitor({
      checks: { database_replication: postgresReplicationCheck({ db: pool }) },
      timeoutMs: 200,
      abortGraceMs: 10,
      intervalMs: 60_000,
    });
    expect((await monitor.check()).status).toBe('healthy');
    await db.pause();
    try {
      // More rounds than the pool has connections: each one queued a query before.
      for (let i = 0; i < 12; i++) {
        const component = (await monitor.check()).components.database_replication!;
        expect(component).toMatchObject({
          status: 'unhealthy',
          error: 'check "database_replication" timed out after 200 ms',
        });
      }
      expect({ busy: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }).toEqual({
        busy: 1,
        waiting: 0,
      });
    } finally {
      await db.resume();
    }
    // The query that hung is answered now; the next rounds measure again.
    await waitUntil(
      'healthy again',
      async () => (await monitor.check()).components.database_replication!.observed_status === 'healthy',
      20_000,
      100,
    );
    expect(pool.waitingCount).toBe(0);
    await monitor.close();
  });
});
