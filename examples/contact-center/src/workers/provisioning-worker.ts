import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClientCloudClient } from '../client-cloud/client.js';
import type { Db } from '../db/client.js';
import { PROVISIONING_QUEUE, type ProvisioningJob } from '../queue/provisioning-queue.js';

/**
 * Provisions one agent in the client's cloud. The call is idempotent by operation id on the cloud side;
 * the ledger row turns `done` only after the cloud confirmed, so a crash between the two just repeats an
 * idempotent call.
 */
export function provisioningWorker(
  connection: Redis,
  db: Db,
  cloud: ClientCloudClient,
  concurrency: number,
): Worker {
  return new Worker<ProvisioningJob>(
    PROVISIONING_QUEUE,
    async (job: Job<ProvisioningJob>) => {
      const { operationId, agentId } = job.data;
      const done = await db.query(
        "SELECT 1 FROM agent_provisioning WHERE operation_id = $1 AND status = 'done'",
        [operationId],
      );
      if (done.rows.length > 0) return { skipped: true };
      const result = await cloud.provisionAgent(operationId, agentId);
      const updated = await db.query(
        `UPDATE agent_provisioning
            SET status = 'done', remote_id = $2, attempts = attempts + 1, completed_at = now()
          WHERE operation_id = $1 AND status = 'pending'`,
        [operationId, result.remoteId],
      );
      if (updated.rowCount !== 1) {
        // Zero rows: either another attempt finished first (fine) or the operation is unknown (a bug).
        const row = await db.query('SELECT status FROM agent_provisioning WHERE operation_id = $1', [
          operationId,
        ]);
        if (row.rows[0]?.status !== 'done') throw new Error(`ledger row ${operationId} missing`);
      }
      return result;
    },
    { connection, concurrency, autorun: true },
  );
}
