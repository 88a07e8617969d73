import { describe, expect, it } from 'vitest';
import { waitForBackendBlockedBy } from './helpers/blocked-by.js';
import { heldCrmWrite } from './helpers/held-crm-write.js';
import { regionPerFile, type TestRegion } from './helpers/in-process-region.js';

/**
 * A retry of an Idempotency-Key whose first run is still writing: it waits for that run (up to 5 s), then
 * answers 409 with a Retry-After the caller can honour, and once the first run is done it replays it.
 */
let region: TestRegion;
regionPerFile(
  (r) => {
    region = r;
  },
  { lockQuorum: true },
);

describe('a retry while the first run of its key is still writing', () => {
  it('gets 409 IDEMPOTENCY_IN_PROGRESS with Retry-After, then the replay of the first run', async () => {
    const sessionId = 'session_in_progress';
    // An uncommitted fence row for the session holds the first run's write.
    const { send, blocker } = await heldCrmWrite(region, sessionId);
    try {
      const first = send();
      await waitForBackendBlockedBy(region.resources.ctx.db, blocker, 'first run waiting on the fence row');
      const retry = await send();
      expect(retry.statusCode, retry.body).toBe(409);
      expect(retry.headers['content-type']).toContain('application/problem+json');
      expect(retry.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
      const retryAfter = Number(retry.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
      await blocker.query('ROLLBACK');
      const done = await first;
      expect(done.statusCode, done.body).toBe(200);
      const replay = await send();
      expect(replay.statusCode).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(done.json());
    } finally {
      await blocker.end();
    }
  }, 30_000);
});
