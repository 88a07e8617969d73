import { z } from 'zod';
import { defaults } from '../defaults.js';
import { parseWith } from '../options.js';
import { sleep } from '../run-check.js';
import type { CheckDefinition, CheckResult, Status } from '../types.js';
import { ProbeGate } from './probe-gate.js';

/** The narrow client shape the check needs: a `pg.Pool`, a `pg.Client` or PGlite satisfy it. */
export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: rows are read field by field below
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

const schema = z
  .object({
    db: z.custom<Queryable>((v) => typeof (v as Queryable)?.query === 'function', {
      message: 'expected a pg.Pool or anything with query(text, params)',
    }),
    maxLagMs: z.number().positive().default(defaults.maxLagMs),
    /** On a primary: fewer streaming standbys than this is `unhealthy`. @default 0 */
    minStandbys: z.number().int().min(0).default(0),
    /** On a standby over `maxLagMs`: look again after this long before reporting lag (0 = never). @default 50 */
    resampleMs: z.number().int().min(0).default(50),
  })
  .strict();

export type PostgresReplicationCheckOptions = z.input<typeof schema>;

const ROLE_SQL = `SELECT pg_is_in_recovery() AS standby, current_setting('synchronous_standby_names') AS sync_names`;

// replay_lag keeps growing for a stuck replay (the walsender interpolates), and is NULL once a
// standby has caught up and gone idle, which is no lag at all. Standbys only: a logical replication
// consumer (CDC: Debezium, a subscription) is connected to a database and reports its own flush pace,
// and a base backup is no standby either.
const PRIMARY_SQL = `SELECT r.application_name, r.client_addr::text AS client_addr, r.state, r.sync_state,
  COALESCE(EXTRACT(EPOCH FROM r.replay_lag) * 1000, 0)::float8 AS replay_lag_ms,
  COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn), 0)::float8 AS replay_lag_bytes
FROM pg_stat_replication r JOIN pg_stat_activity a ON a.pid = r.pid
WHERE a.datname IS NULL AND r.state <> 'backup'
ORDER BY r.application_name`;

// now() - last replay timestamp alone reports lag on an idle primary; when everything received is
// replayed the standby is current, whatever the clock says.
const STANDBY_SQL = `SELECT
  CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
       ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000 END::float8 AS lag_ms,
  COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 AS lag_bytes,
  pg_is_wal_replay_paused() AS replay_paused,
  (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver,
  pg_last_wal_receive_lsn()::text AS received,
  COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) >= 0, false) AS replayed_first`;

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * Database replication lag (seed: `replication_lag_ms` vs `max_allowed_lag_ms`). On a primary:
 * `pg_stat_replication` replay lag per standby and its sync state (configured synchronous standbys
 * with none in sync is `unhealthy`, writes would block). On a standby:
 * `now() - pg_last_xact_replay_timestamp()` while WAL is waiting to be replayed. Lag over `maxLagMs`
 * is `unhealthy` with the measured value. At most one probe is outstanding: while Postgres hangs, a
 * round waits on the one already sent instead of adding a query to the pool.
 */
export function postgresReplicationCheck(options: PostgresReplicationCheckOptions): CheckDefinition {
  const o = parseWith(schema, options, 'postgresReplicationCheck');

  async function primary(syncNames: string): Promise<CheckResult> {
    const { rows } = await o.db.query(PRIMARY_SQL);
    const standbys = rows.map((r) => ({
      name: r.application_name as string,
      client_addr: r.client_addr as string | null,
      state: r.state as string,
      sync_state: r.sync_state as string,
      replay_lag_ms: round(Number(r.replay_lag_ms)),
      replay_lag_bytes: Number(r.replay_lag_bytes),
    }));
    const lag = Math.max(0, ...standbys.map((s) => s.replay_lag_ms));
    const streaming = standbys.filter((s) => s.state === 'streaming').length;
    const syncRequired = syncNames.trim() !== '';
    const inSync = standbys.filter((s) => s.sync_state === 'sync' || s.sync_state === 'quorum').length;
    const problems: string[] = [];
    if (lag > o.maxLagMs) {
      const worst = standbys.find((s) => s.replay_lag_ms === lag);
      problems.push(`standby ${worst?.name} replay lag ${lag} ms > ${o.maxLagMs} ms`);
    }
    if (streaming < o.minStandbys) problems.push(`${streaming} streaming standby(s), need ${o.minStandbys}`);
    if (syncRequired && inSync === 0)
      problems.push('synchronous_standby_names is set but no standby is in sync');
    const result: CheckResult = {
      status: problems.length > 0 ? 'unhealthy' : 'healthy',
      role: 'primary',
      replication_lag_ms: lag,
      max_allowed_lag_ms: o.maxLagMs,
      synchronous: syncRequired,
      standbys,
    };
    if (problems.length > 0) result.error = problems.join('; ');
    return result;
  }

  async function standby(): Promise<CheckResult> {
    let { rows } = await o.db.query(STANDBY_SQL, ['0/0']);
    let r = rows[0] ?? {};
    let lag = r.lag_ms === null || r.lag_ms === undefined ? null : round(Number(r.lag_ms));
    if (lag !== null && lag > o.maxLagMs && r.received && o.resampleMs > 0) {
      // The first sample may have caught the standby applying a record that just arrived (an idle
      // primary still sends one every 15 s), when now() - last commit is old but nothing lags.
      // Look again: if everything received at the first look has been replayed since, it keeps up.
      await sleep(o.resampleMs);
      ({ rows } = await o.db.query(STANDBY_SQL, [r.received]));
      r = rows[0] ?? {};
      lag = r.replayed_first && !r.replay_paused ? 0 : r.lag_ms === null ? null : round(Number(r.lag_ms));
    }
    let status: Status = 'healthy';
    const problems: string[] = [];
    if (lag === null) {
      status = 'degraded';
      problems.push('replay lag unknown: nothing replayed since the standby started');
    } else if (lag > o.maxLagMs) {
      status = 'unhealthy';
      problems.push(`replay lag ${lag} ms > ${o.maxLagMs} ms`);
    }
    if (r.receiver !== 'streaming') {
      status = 'unhealthy';
      problems.push(`WAL receiver is ${r.receiver ?? 'not running'}`);
    }
    const result: CheckResult = {
      status,
      role: 'standby',
      replication_lag_ms: lag,
      max_allowed_lag_ms: o.maxLagMs,
      replication_lag_bytes: Number(r.lag_bytes ?? 0),
      replay_paused: Boolean(r.replay_paused),
    };
    if (problems.length > 0) result.error = problems.join('; ');
    return result;
  }

  // One probe is the role query and then the primary's or the standby's, one at a time, so the gate
  // keeps at most one query of this check in the pool while Postgres hangs.
  async function probe(): Promise<CheckResult> {
    const { rows } = await o.db.query(ROLE_SQL);
    const role = rows[0] ?? {};
    return role.standby ? standby() : primary(String(role.sync_names ?? ''));
  }
  const gate = new ProbeGate<Queryable, CheckResult>();

  return {
    componentType: 'datastore',
    check: (signal) => gate.run(o.db, probe, signal),
    observe: (r) => [
      { measurement: 'replicationLag', observedValue: r.replication_lag_ms, observedUnit: 'ms' },
    ],
  };
}
