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
      await db.query(
        `UPDATE agent_provisioning
            SET status = 'done', remote_id = $2, attempts = attempts + 1, completed_at = now()
          WHERE operation_id = $1 AND status = 'pending'`,
        [operationId, result.remoteId],
      );
      return result;
    },
    { connection, concurrency, autorun: true },
  );
}
