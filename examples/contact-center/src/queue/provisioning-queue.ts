import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const PROVISIONING_QUEUE = 'agent-provisioning';

export interface ProvisioningJob {
  operationId: string;
  batchId: string;
  agentId: string;
}

/** Hand-off from the bulk job to the provisioning worker pool. */
export class ProvisioningQueue {
  readonly queue: Queue<ProvisioningJob>;

  constructor(connection: Redis) {
    this.queue = new Queue<ProvisioningJob>(PROVISIONING_QUEUE, {
      connection,
      defaultJobOptions: {
        attempts: 10,
        backoff: { type: 'exponential', delay: 250 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10_000 },
      },
    });
  }

  /**
   * Job id = operation id (plus the reconciliation round): re-enqueueing after a restart does not create a
   * second job while one waits.
   */
  async enqueueMany(jobs: ProvisioningJob[], round = 0): Promise<void> {
    await this.queue.addBulk(
      jobs.map((data) => ({
        name: 'provision-agent',
        data,
        opts: { jobId: round === 0 ? data.operationId : `${data.operationId}-round-${round}` },
      })),
    );
  }

  /** Jobs not yet finished (waiting, delayed, active), used to keep the backlog bounded. */
  async backlog(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
