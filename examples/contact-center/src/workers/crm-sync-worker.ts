import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClientCloudClient } from '../client-cloud/client.js';
import type { Db } from '../db/client.js';
import { CRM_SYNC_QUEUE, type CrmSyncJob } from '../queue/crm-sync-queue.js';

/**
 * Pushes locally written notes to the client's CRM cloud. Runs in the worker pool, never in the webhook
 * consumer: a slow CRM only grows this queue, it cannot stall ingestion.
 */
export function crmSyncWorker(
  connection: Redis,
  db: Db,
  cloud: ClientCloudClient,
  concurrency: number,
): Worker {
  return new Worker<CrmSyncJob>(
    CRM_SYNC_QUEUE,
    async (job: Job<CrmSyncJob>) => {
      const { noteId, eventId, contactId, notes, source } = job.data;
      // The platform event id is the CRM's idempotency key: a retried job never creates a second note.
      const created = await cloud.createNote(`${source}:${eventId}`, contactId, notes);
      await db.query('UPDATE crm_contact_notes SET synced_at = now() WHERE id = $1 AND synced_at IS NULL', [
        noteId,
      ]);
      return created;
    },
    { connection, concurrency, autorun: true },
  );
}
