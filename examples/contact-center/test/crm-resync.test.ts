import { randomUUID } from 'node:crypto';
import { waitUntil } from '@cxkit/testkit';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { CRM_SYNC_QUEUE } from '../src/queue/crm-sync-queue.js';
import { resyncUnsyncedNotes } from '../src/workers/crm-resync.js';
import { regionPerFile, type TestRegion } from './helpers/in-process-region.js';

/**
 * A webhook note acknowledged to the platform must reach the CRM cloud even when its sync job ran out
 * of attempts (a cloud outage longer than the backoff) or was lost: nothing redelivers the webhook.
 */
let region: TestRegion;
regionPerFile((r) => {
  region = r;
});

async function unsyncedNote(eventId: string): Promise<string> {
  const { rows } = await region.resources.ctx.db.query<{ id: string }>(
    `INSERT INTO crm_contact_notes (session_id, contact_id, operation, interaction_type, agent_id, notes,
       event_time, source, source_event_id, region, created_at)
     VALUES ('s', 'cust_1', 'LOG_INTERACTION', 'voice', 'a', 'wrap-up', now(), 'genesys', $1, 'us-east-1',
       now() - interval '5 minutes')
     RETURNING id::text AS id`,
    [eventId],
  );
  return rows[0]!.id;
}

describe('CRM sync of webhook notes', () => {
  it('a note whose sync job failed for good, or has none, is queued again; a synced one is left alone', async () => {
    const crmSync = region.resources.ctx.crmSync;
    const failedEvent = randomUUID();
    const failedNote = await unsyncedNote(failedEvent);
    // Its job exhausts its attempts while the cloud is down.
    await crmSync.queue.add(
      'sync-note',
      { noteId: failedNote, source: 'genesys', eventId: failedEvent, contactId: 'cust_1', notes: 'wrap-up' },
      { jobId: `genesys-${failedEvent}`, attempts: 1 },
    );
    const connection = (await crmSync.queue.client).duplicate({
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    const down = new Worker(
      CRM_SYNC_QUEUE,
      async () => {
        throw new Error('client cloud unreachable');
      },
      { connection },
    );
    try {
      await waitUntil(
        'sync job failed',
        async () => (await crmSync.queue.getJob(`genesys-${failedEvent}`))?.failedReason !== undefined,
        10_000,
        50,
      );
    } finally {
      await down.close();
      connection.disconnect();
    }
    const lostEvent = randomUUID();
    await unsyncedNote(lostEvent);
    const syncedEvent = randomUUID();
    const syncedNote = await unsyncedNote(syncedEvent);
    await region.resources.ctx.db.query('UPDATE crm_contact_notes SET synced_at = now() WHERE id = $1', [
      syncedNote,
    ]);

    expect(await resyncUnsyncedNotes(region.resources.ctx.db, crmSync, { olderThanMs: 60_000 })).toEqual({
      retried: 1,
      enqueued: 1,
    });
    expect(await (await crmSync.queue.getJob(`genesys-${failedEvent}`))?.getState()).toBe('waiting');
    expect((await crmSync.queue.getJob(`genesys-${lostEvent}`))?.data.contactId).toBe('cust_1');
    expect(await crmSync.queue.getJob(`genesys-${syncedEvent}`)).toBeUndefined();
  });
});
