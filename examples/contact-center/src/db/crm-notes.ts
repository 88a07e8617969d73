import type { Db } from './client.js';

export interface CrmNote {
  sessionId: string;
  contactId: string;
  operation: string;
  interactionType: string;
  agentId: string;
  notes: string;
  eventTime: string;
  region: string;
}

export type FencedWriteResult =
  | { written: true; noteId: string; fence: number }
  | { written: false; currentFence: number; fence: number };

/**
 * Writes a note only if `fence` is at least the highest fence that already wrote for this session, in
 * one statement: a holder whose lock was overridden (lower fence) can never land a late write. A note
 * already written under `idempotencyKey` is answered as written (the handler may run again for a key
 * whose first run wrote and then failed), never written twice.
 */
export async function writeFencedNote(
  db: Db,
  note: CrmNote,
  fence: number,
  idempotencyKey: string | null,
): Promise<FencedWriteResult> {
  const { rows } = await db.query<{ id: string }>(
    `WITH accepted AS (
       INSERT INTO crm_session_fences AS f (session_id, fence, region) VALUES ($1, $2, $3)
       ON CONFLICT (session_id) DO UPDATE
         SET fence = EXCLUDED.fence, region = EXCLUDED.region, updated_at = now()
         WHERE f.fence <= EXCLUDED.fence
       RETURNING fence
     )
     INSERT INTO crm_contact_notes
       (session_id, contact_id, operation, interaction_type, agent_id, notes, event_time, source,
        idempotency_key, fence, region)
     SELECT $1, $4, $5, $6, $7, $8, $9, 'api', $10, accepted.fence, $3 FROM accepted
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id`,
    [
      note.sessionId,
      fence,
      note.region,
      note.contactId,
      note.operation,
      note.interactionType,
      note.agentId,
      note.notes,
      note.eventTime,
      idempotencyKey,
    ],
  );
  if (rows[0]) return { written: true, noteId: rows[0].id, fence };
  if (idempotencyKey !== null) {
    // A run of this key already wrote its note (its lock was lost after the write, or its stored response
    // was): the repeat answers that note instead of failing on the unique key.
    const existing = await db.query<{ id: string; fence: string | null }>(
      'SELECT id, fence FROM crm_contact_notes WHERE idempotency_key = $1',
      [idempotencyKey],
    );
    const note = existing.rows[0];
    if (note) return { written: true, noteId: note.id, fence: Number(note.fence ?? fence) };
  }
  const current = await db.query<{ fence: string }>(
    'SELECT fence FROM crm_session_fences WHERE session_id = $1',
    [note.sessionId],
  );
  return { written: false, currentFence: Number(current.rows[0]?.fence ?? 0), fence };
}

/**
 * Records a note from a platform webhook. The unique `source_event_id` is the database-level backstop
 * behind Redis deduplication: a redelivery that slips past dedup (e.g. after the window, or after a run
 * that wrote the note and then failed) inserts nothing and gets the existing note's id, with `synced`
 * telling whether it already reached the CRM cloud.
 */
export async function insertWebhookNote(
  db: Db,
  note: CrmNote,
  source: 'genesys' | 'cxone',
  eventId: string,
): Promise<{ inserted: boolean; noteId: string | undefined; synced: boolean }> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO crm_contact_notes
       (session_id, contact_id, operation, interaction_type, agent_id, notes, event_time, source,
        source_event_id, region)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (source_event_id) DO NOTHING
     RETURNING id`,
    [
      note.sessionId,
      note.contactId,
      note.operation,
      note.interactionType,
      note.agentId,
      note.notes,
      note.eventTime,
      source,
      eventId,
      note.region,
    ],
  );
  if (rows[0]) return { inserted: true, noteId: rows[0].id, synced: false };
  const existing = await db.query<{ id: string; synced: boolean }>(
    'SELECT id, synced_at IS NOT NULL AS synced FROM crm_contact_notes WHERE source_event_id = $1',
    [eventId],
  );
  return { inserted: false, noteId: existing.rows[0]?.id, synced: existing.rows[0]?.synced ?? false };
}
