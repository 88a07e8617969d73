import { waitUntil } from '@cxkit/testkit';
import type pg from 'pg';
import type { Db } from '../../src/db/client.js';

/**
 * Waits until a backend is blocked by `blocker`'s open transaction and returns its pid. Matched by
 * `pg_blocking_pids`, not by query text: the Postgres server is shared with test files running in
 * parallel, whose statements may wait on locks of their own.
 */
export async function waitForBackendBlockedBy(db: Db, blocker: pg.Client, what: string): Promise<number> {
  const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  let pid = 0;
  await waitUntil(
    what,
    async () => {
      const { rows } = await db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
        [blockerPid],
      );
      pid = rows[0]?.pid ?? 0;
      return pid !== 0;
    },
    10_000,
    50,
  );
  return pid;
}
