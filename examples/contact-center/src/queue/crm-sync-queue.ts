import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const CRM_SYNC_QUEUE = 'crm-sync';

/** A note written locally that still has to reach the client's CRM cloud (the slow call). */
export interface CrmSyncJob {
  noteId: string;
  source: 'genesys' | 'cxone' | 'api';
  eventId: string;
  contactId: string;
  notes: string;
}

/**
 * The webhook consumer's only contact with the CRM cloud: one Redis write. The slow HTTP call happens in
 * the worker pool (seed 004: a consumer that blocks on a downstream call freezes the whole pipeline).
 */
const jobIdOf = (source: string, eventId: string) => `${source}-${eventId}`;

export class CrmSyncQueue {
  readonly queue: Queue<CrmSyncJob>;

  constructor(connection: Redis) {
    this.queue = new Queue<CrmSyncJob>(CRM_SYNC_QUEUE, {
      connection,
      defaultJobOptions: {
        attempts: 8,
        backoff: { type: 'exponential', delay: 500 },
        // Bounded history: completed jobs are not needed, failed ones are kept for inspection.
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 10_000 },
      },
    });
  }

  /**
   * Resolves once BullMQ has finished its start-up commands on the connection. On a shared connection
   * its close() does not wait for them, and a connection closed under them would fail them where nobody
   * listens (an unhandled rejection): wait for this before the queue can be closed, at most `withinMs`.
   */
  async ready(withinMs: number): Promise<void> {
    // Bounded: a region still starts (degraded) while its queue node is down or slow; the queue then
    // finishes starting on its own, as before.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.queue.waitUntilReady().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, withinMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The event id is the job id, so a redelivery that reaches this point still enqueues once. */
  async enqueue(job: CrmSyncJob): Promise<void> {
    await this.queue.add('sync-note', job, { jobId: jobIdOf(job.source, job.eventId) });
  }

  /** The job of the note of `source` event `eventId`, if the queue still has it. */
  job(source: CrmSyncJob['source'], eventId: string) {
    return this.queue.getJob(jobIdOf(source, eventId));
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
