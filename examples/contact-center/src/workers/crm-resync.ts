import type { Db } from '../db/client.js';
import type { CrmSyncQueue } from '../queue/crm-sync-queue.js';

export interface ResyncOptions {
  /** Only notes written at least this long ago (their first job had time to run). @default 60_000 */
  olderThanMs?: number;
  /** Most notes looked at per call. @default 1_000 */
  limit?: number;
}

/**
 * Webhook notes still not synced to the CRM cloud: their job ran out of attempts (a cloud outage longer
 * than the backoff, about 2 minutes) or was lost. Failed jobs are retried, missing ones enqueued again;
 * the cloud call is idempotent by event id, so this can only repeat a creation, never duplicate it.
 */
export async function resyncUnsyncedNotes(
  db: Db,
  crmSync: CrmSyncQueue,
  options: ResyncOptions = {},
): Promise<{ retried: number; enqueued: number }> {
  const { rows } = await db.query<{
    id: string;
    source: 'genesys' | 'cxone';
    source_event_id: string;
    contact_id: string;
    notes: string;
  }>(
    `SELECT id::text AS id, source, source_event_id, contact_id, notes FROM crm_contact_notes
      WHERE synced_at IS NULL AND source_event_id IS NOT NULL
        AND created_at < now() - $1 * interval '1 millisecond'
      ORDER BY id LIMIT $2`,
    [options.olderThanMs ?? 60_000, options.limit ?? 1_000],
  );
  let retried = 0;
  let enqueued = 0;
  for (const note of rows) {
    const job = await crmSync.job(note.source, note.source_event_id);
    if (!job) {
      await crmSync.enqueue({
        noteId: note.id,
        source: note.source,
        eventId: note.source_event_id,
        contactId: note.contact_id,
        notes: note.notes,
      });
      enqueued++;
    } else if (await job.isFailed()) {
      await job.retry('failed');
      retried++;
    }
  }
  return { retried, enqueued };
}
