import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../db/client.js';
import type { ProvisioningQueue } from '../queue/provisioning-queue.js';
import { type BatchCounts, batchCounts, pendingPage, planBatch } from './ledger.js';

export interface BulkProvisioningOptions {
  db: Db;
  queue: ProvisioningQueue;
  batchId: string;
  agents: number;
  /** Ledger rows read and enqueued per round. @default 500 */
  pageSize?: number;
  /** Most unfinished jobs in the queue before the job waits (keeps Redis memory bounded). @default 2000 */
  maxBacklog?: number;
  /** Poll interval while waiting for the worker pool. @default 250 */
  pollMs?: number;
  onProgress?: (counts: BatchCounts) => void;
  signal?: AbortSignal;
}

/**
 * The restart-safe bulk job: plan the batch in the ledger, enqueue every pending operation (job id =
 * operation id), wait for the worker pool. Killed at any point and run again, it re-plans nothing,
 * re-enqueues only what is still pending, and the cloud call itself is idempotent by operation id.
 */
export async function runBulkProvisioning(options: BulkProvisioningOptions): Promise<BatchCounts> {
  const { db, queue, batchId, agents, signal } = options;
  const pageSize = options.pageSize ?? 500;
  const maxBacklog = options.maxBacklog ?? 2000;
  const pollMs = options.pollMs ?? 250;
  await planBatch(db, batchId, agents);

  let cursor = '';
  for (;;) {
    signal?.throwIfAborted();
    while ((await queue.backlog()) > maxBacklog) {
      options.onProgress?.(await batchCounts(db, batchId));
      await sleep(pollMs, undefined, { signal });
    }
    const page = await pendingPage(db, batchId, cursor, pageSize);
    if (page.length === 0) break;
    await queue.enqueueMany(page.map((p) => ({ ...p, batchId })));
    cursor = page[page.length - 1]!.operationId;
    options.onProgress?.(await batchCounts(db, batchId));
  }

  for (;;) {
    const counts = await batchCounts(db, batchId);
    options.onProgress?.(counts);
    if (counts.pending === 0) return counts;
    await sleep(pollMs, undefined, { signal });
  }
}
