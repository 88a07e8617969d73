import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointV2, cxoneAgentState, genesysAcw } from '../src/demo/payloads.js';
import { waitForBackendBlockedBy } from './helpers/blocked-by.js';
import { heldCrmWrite } from './helpers/held-crm-write.js';
import { startTestRegion, type TestRegion, waitForLockQuorum } from './helpers/in-process-region.js';

/**
 * The data node (the first Redis node: dedup, checkpoints, agent state, queues) stops answering
 * (SIGSTOP: the TCP connection stays open, no reply comes). Requests that need it must fail within the
 * command timeout, not wait for the node forever holding their connection, memory and the shutdown.
 */
let region: TestRegion;

beforeAll(async () => {
  region = await startTestRegion({ REDIS_COMMAND_TIMEOUT_MS: '1000' });
  await waitForLockQuorum(region);
}, 120_000);

afterAll(async () => {
  await region?.stop();
}, 60_000);

const post = (url: string, body: unknown) =>
  region.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

const HUNG = Symbol('hung');
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<typeof HUNG>((resolve) => setTimeout(() => resolve(HUNG), ms))]);

describe('a paused data node', () => {
  it('webhooks and checkpoints answer an error within the command timeout instead of hanging', async () => {
    const node = region.redis.nodes[0]!;
    await node.pause();
    try {
      const requests = [
        post('/webhooks/cxone', cxoneAgentState(31, 'Available')),
        post('/webhooks/genesys', genesysAcw()),
        post('/api/v2/sessions/session_paused/state/checkpoint', checkpointV2('session_paused', 'us-east-1')),
        region.app.inject({
          method: 'GET',
          url: '/api/v2/sessions/session_paused/state/latest',
          headers: { authorization: `Bearer ${region.token}` },
        }),
        // Redis cannot say whether this agent has a state: not a 404.
        region.app.inject({
          method: 'GET',
          url: '/api/v2/agents/cxone-4040/state',
          headers: { authorization: `Bearer ${region.token}` },
        }),
      ];
      for (const res of await Promise.all(requests.map((r) => within(r, 6_000)))) {
        expect(res).not.toBe(HUNG);
        if (res === HUNG) continue;
        expect(res.statusCode).toBeGreaterThanOrEqual(500);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    } finally {
      await node.resume();
    }
    // Back: the same kinds of requests work again.
    expect((await post('/webhooks/cxone', cxoneAgentState(31, 'Available'))).statusCode).toBe(200);
    expect(
      (
        await post(
          '/api/v2/sessions/session_paused/state/checkpoint',
          checkpointV2('session_paused', 'us-east-1'),
        )
      ).statusCode,
    ).toBe(201);
  });
});

describe('lock quorum lost while a CRM write is in flight', () => {
  it('the retry of the same Idempotency-Key answers the note that was written, not a 500 forever', async () => {
    const sessionId = 'session_lock_lost';
    // An uncommitted fence row for the session makes the write wait while the lock is lost.
    const { key, send: sendWithKey, blocker } = await heldCrmWrite(region, sessionId);
    const lockNodes = region.redis.nodes.slice(1);
    try {
      const first = sendWithKey();
      await waitForBackendBlockedBy(region.resources.ctx.db, blocker, 'CRM write waiting on the fence row');
      // Two of three lock nodes stop answering: heartbeats miss the quorum and the lock is lost.
      for (const node of lockNodes) await node.pause();
      await new Promise((r) => setTimeout(r, 2_500));
      await blocker.query('ROLLBACK');
      const lost = await first;
      expect(lost.statusCode).toBe(409);
      expect(lost.json().code).toBe('LOCK_LOST');
    } finally {
      for (const node of lockNodes) if (node.paused) await node.resume();
      await blocker.end();
    }
    const { rows } = await region.resources.ctx.db.query(
      'SELECT id::text AS id FROM crm_contact_notes WHERE idempotency_key = $1',
      [key],
    );
    expect(rows).toHaveLength(1);
    await waitForLockQuorum(region);
    const retried = await sendWithKey();
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ note_id: rows[0].id, session_id: sessionId });
    expect(
      (
        await region.resources.ctx.db.query('SELECT 1 FROM crm_contact_notes WHERE session_id = $1', [
          sessionId,
        ])
      ).rows,
    ).toHaveLength(1);
  });
});
