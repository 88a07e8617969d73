import type { Db } from '../db/client.js';
import { batchCounts, doneOperations } from './ledger.js';

export interface ReconciliationReport {
  batchId: string;
  planned: number;
  done: number;
  pending: number;
  /** Done in the ledger but unknown to the cloud (must be 0). */
  missingInCloud: number;
  /** Present in the cloud but still pending in the ledger (a crash between call and commit; a rerun fixes it). */
  unconfirmedInCloud: number;
  /** Agents the cloud created more than once, across all batches (must be 0). */
  duplicateAgents: number;
  agentsCreated: number;
  agentReplays: number;
}

/** Compares the ledger with what the cloud actually holds. */
export async function reconcile(db: Db, cloudUrl: string, batchId: string): Promise<ReconciliationReport> {
  const counts = await batchCounts(db, batchId);
  const done = await doneOperations(db, batchId);
  const listed = (await (
    await fetch(new URL(`/v1/agents?operation_prefix=${encodeURIComponent(`${batchId}-`)}`, cloudUrl))
  ).json()) as { operations: string[] };
  const inCloud = new Set(listed.operations);
  const stats = (await (await fetch(new URL('/v1/stats', cloudUrl))).json()) as {
    duplicateAgents: number;
    agentsCreated: number;
    agentReplays: number;
  };
  let missingInCloud = 0;
  for (const op of done) if (!inCloud.has(op)) missingInCloud++;
  let unconfirmedInCloud = 0;
  for (const op of inCloud) if (!done.has(op)) unconfirmedInCloud++;
  return {
    batchId,
    planned: counts.total,
    done: counts.done,
    pending: counts.pending,
    missingInCloud,
    unconfirmedInCloud,
    duplicateAgents: stats.duplicateAgents,
    agentsCreated: stats.agentsCreated,
    agentReplays: stats.agentReplays,
  };
}
