import type { Db } from '../db/client.js';

/** Operation ids sort in agent order, so paging by id is stable across restarts. */
export function operationId(batchId: string, index: number): string {
  return `${batchId}-agent-${String(index).padStart(6, '0')}`;
}

/**
 * Plans a batch: one ledger row per agent, keyed by operation id. Re-planning after a crash inserts
 * nothing that exists, so a restart never changes what the batch means.
 */
export async function planBatch(db: Db, batchId: string, agents: number): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO agent_provisioning (operation_id, batch_id, agent_id)
     SELECT $1 || '-agent-' || lpad(i::text, 6, '0'), $1, 'agent_' || $1 || '_' || i
       FROM generate_series(1, $2::int) AS i
     ON CONFLICT (operation_id) DO NOTHING`,
    [batchId, agents],
  );
  return rowCount ?? 0;
}

export async function pendingPage(
  db: Db,
  batchId: string,
  afterOperationId: string,
  limit: number,
): Promise<{ operationId: string; agentId: string }[]> {
  const { rows } = await db.query<{ operation_id: string; agent_id: string }>(
    `SELECT operation_id, agent_id FROM agent_provisioning
      WHERE batch_id = $1 AND status = 'pending' AND operation_id > $2
      ORDER BY operation_id LIMIT $3`,
    [batchId, afterOperationId, limit],
  );
  return rows.map((r) => ({ operationId: r.operation_id, agentId: r.agent_id }));
}

export interface BatchCounts {
  total: number;
  done: number;
  pending: number;
}

export async function batchCounts(db: Db, batchId: string): Promise<BatchCounts> {
  const { rows } = await db.query<{ total: string; done: string }>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE status = 'done') AS done
       FROM agent_provisioning WHERE batch_id = $1`,
    [batchId],
  );
  const total = Number(rows[0]?.total ?? 0);
  const done = Number(rows[0]?.done ?? 0);
  return { total, done, pending: total - done };
}

export async function doneOperations(db: Db, batchId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ operation_id: string }>(
    "SELECT operation_id FROM agent_provisioning WHERE batch_id = $1 AND status = 'done'",
    [batchId],
  );
  return new Set(rows.map((r) => r.operation_id));
}
