import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { genesysAcw } from '../src/demo/payloads.js';
import { waitForBackendBlockedBy } from './helpers/blocked-by.js';
import { regionPerFile, type TestRegion } from './helpers/in-process-region.js';

/**
 * Webhook deliveries whose first run is slow or fails: what the other deliveries of the same event get,
 * and what a redelivery after a failure still does. Real Redis and PostgreSQL; a second database session
 * holds the row lock that makes the winner's insert wait.
 */
let region: TestRegion;
regionPerFile((r) => {
  region = r;
});

const deliver = (body: unknown) =>
  region.app.inject({
    method: 'POST',
    url: '/webhooks/genesys',
    headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

/** A session that inserted a note with `eventId` and has not committed: the winner's insert waits on it. */
async function holdEventRow(eventId: string): Promise<pg.Client> {
  const blocker = new pg.Client({ connectionString: region.pg.url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query(
    `INSERT INTO crm_contact_notes (session_id, contact_id, operation, interaction_type, agent_id, notes,
       event_time, source, source_event_id, region)
     VALUES ('s', 'c', 'LOG_INTERACTION', 'voice', 'a', 'n', now(), 'genesys', $1, 'blocker')`,
    [eventId],
  );
  return blocker;
}

describe('a delivery of an event another delivery is still processing', () => {
  it('gets 503 EVENT_IN_PROGRESS with Retry-After when the first run outlasts the wait', async () => {
    const event = genesysAcw();
    const blocker = await holdEventRow(event.id);
    try {
      const first = deliver(event);
      await waitForBackendBlockedBy(
        region.resources.ctx.db,
        blocker,
        'winner insert waiting on the row lock',
      );
      const second = await deliver(event);
      expect(second.statusCode).toBe(503);
      expect(second.headers['retry-after']).toBeDefined();
      expect(second.headers['content-type']).toContain('application/problem+json');
      expect(second.json()).toMatchObject({ code: 'EVENT_IN_PROGRESS', event_id: event.id });
      await blocker.query('ROLLBACK');
      const done = await first;
      expect(done.statusCode).toBe(200);
      expect(done.json()).toMatchObject({ status: 'processed', queued: true });
    } finally {
      await blocker.end();
    }
  });

  it('gets 503 EVENT_IN_PROGRESS with Retry-After (not a 4xx the platform drops) when the first run fails', async () => {
    const event = genesysAcw();
    const blocker = await holdEventRow(event.id);
    try {
      const first = deliver(event);
      const pid = await waitForBackendBlockedBy(
        region.resources.ctx.db,
        blocker,
        'winner insert waiting on the row lock',
      );
      const second = deliver(event);
      await new Promise((r) => setTimeout(r, 300));
      // The winner's database session dies: its handler fails and releases the claim.
      await region.resources.ctx.db.query('SELECT pg_terminate_backend($1)', [pid]);
      const [failed, waiting] = await Promise.all([first, second]);
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(waiting.statusCode).toBe(503);
      expect(waiting.headers['retry-after']).toBeDefined();
      expect(waiting.json()).toMatchObject({ code: 'EVENT_IN_PROGRESS', event_id: event.id });
      await blocker.query('ROLLBACK');
      // The platform redelivers: this time it is processed.
      const again = await deliver(event);
      expect(again.json()).toMatchObject({ status: 'processed', queued: true });
    } finally {
      await blocker.end();
    }
  });
});

describe('a redelivery after a failed run', () => {
  it('still hands the note to the CRM sync queue when the first run wrote the row but could not enqueue', async () => {
    const event = genesysAcw();
    const data = region.resources.ctx.crmSync.queue;
    const metaKey = `${data.opts.prefix ?? 'bull'}:${data.name}:meta`;
    const redis = await data.client;
    const previous = await redis.hgetall(metaKey);
    // BullMQ's add script reads the queue's meta hash: a string there makes the enqueue fail.
    await redis.set(metaKey, 'broken');
    const failed = await deliver(event);
    expect(failed.statusCode).toBe(500);
    const { rows } = await region.resources.ctx.db.query(
      'SELECT id, synced_at FROM crm_contact_notes WHERE source_event_id = $1',
      [event.id],
    );
    expect(rows).toHaveLength(1);
    await redis.del(metaKey);
    if (Object.keys(previous).length > 0) await redis.hset(metaKey, previous);
    const again = await deliver(event);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'processed', note_id: rows[0].id, queued: true });
    const job = await data.getJob(`genesys-${event.id}`);
    expect(job?.data).toMatchObject({ noteId: rows[0].id, contactId: 'cust_449201' });
  });
});
