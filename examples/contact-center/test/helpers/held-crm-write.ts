import pg from 'pg';
import { crmUpdate, idempotencyKeyFor } from '../../src/demo/payloads.js';
import type { TestRegion } from './in-process-region.js';

/**
 * A CRM update of `sessionId` under its deterministic Idempotency-Key, and a second database session
 * that holds an uncommitted fence row for that session, so the update's fenced write waits on it until
 * the test commits or rolls back `blocker` (and `end()`s it).
 */
export async function heldCrmWrite(region: TestRegion, sessionId: string) {
  const key = idempotencyKeyFor(sessionId, 'UPDATE_NOTES', '2024-05-15T14:32:00Z');
  const send = () =>
    region.app.inject({
      method: 'POST',
      url: '/api/v2/integrations/crm/contact/update',
      headers: {
        authorization: `Bearer ${region.token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      payload: JSON.stringify(crmUpdate(sessionId)),
    });
  const blocker = new pg.Client({ connectionString: region.pg.url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query(
    "INSERT INTO crm_session_fences (session_id, fence, region) VALUES ($1, 0, 'blocker')",
    [sessionId],
  );
  return { key, send, blocker };
}
