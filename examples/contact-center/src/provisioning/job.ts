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
  /**
   * Times operations still pending with an empty queue are enqueued again (their ledger update was lost,
   * e.g. to a database failover). The cloud call is idempotent, so this can only repeat, never duplicate.
   * @default 5
   */
  maxReconcileRounds?: number;
  onProgress?: (counts: BatchCounts) => void;
  /** Called when pending operations without a queued job are enqueued again. */
  onReenqueue?: (count: number, round: number) => void;
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

  let round = 0;
  let idlePolls = 0;
  for (;;) {
    const counts = await batchCounts(db, batchId);
    options.onProgress?.(counts);
    if (counts.pending === 0) return counts;
    // A job finishes only after its ledger update: an empty queue with pending rows means orphans.
    idlePolls = (await queue.backlog()) === 0 ? idlePolls + 1 : 0;
    if (idlePolls >= 3) {
      if (++round > (options.maxReconcileRounds ?? 5)) {
        throw new Error(
          `${counts.pending} operation(s) of ${batchId} stayed pending after ${round - 1} rounds`,
        );
      }
      let count = 0;
      for (let after = ''; ; ) {
        const page = await pendingPage(db, batchId, after, pageSize);
        if (page.length === 0) break;
        count += page.length;
        await queue.enqueueMany(
          page.map((p) => ({ ...p, batchId })),
          round,
        );
        after = page[page.length - 1]!.operationId;
      }
      options.onReenqueue?.(count, round);
      idlePolls = 0;
    }
    await sleep(pollMs, undefined, { signal });
  }
}
