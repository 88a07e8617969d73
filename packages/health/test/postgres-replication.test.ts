import { startPostgresReplication, waitUntil } from '@cxkit/testkit';
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
