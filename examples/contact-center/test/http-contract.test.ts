import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import {
  checkpointV2,
  crmUpdate,
  cxoneAgentState,
  genesysAcw,
  idempotencyKeyFor,
  lockRequest,
} from '../src/demo/payloads.js';
import { regionPerFile, startTestRegion, type TestRegion } from './helpers/in-process-region.js';

/** The happy-path contract of each route family, in one region process, against real servers. */
let region: TestRegion;
regionPerFile(
  (r) => {
    region = r;
  },
  { lockQuorum: true },
);

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  region.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
const get = (url: string) =>
  region.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${region.token}` } });
const rows = async (sql: string, params: unknown[] = []) =>
  (await region.resources.ctx.db.query(sql, params)).rows;

describe('CRM update', () => {
  it('replays the stored response for a repeated key; concurrent repeats write one row', async () => {
    const key = idempotencyKeyFor('session_crm_1', 'UPDATE_NOTES', '2024-05-15T14:32:00Z');
    const body = crmUpdate('session_crm_1');
    const all = await Promise.all(
      Array.from({ length: 10 }, () =>
        post('/api/v2/integrations/crm/contact/update', body, { 'idempotency-key': key }),
      ),
    );
    expect(all.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(all.map((r) => r.json().note_id)).size).toBe(1);
    expect(all.filter((r) => r.headers['idempotent-replayed'] === 'false')).toHaveLength(1);
    expect(
      await rows('SELECT id FROM crm_contact_notes WHERE session_id = $1', ['session_crm_1']),
    ).toHaveLength(1);
  });

  it('the same key with a different body is 422 and writes nothing', async () => {
    const key = idempotencyKeyFor('session_crm_2', 'UPDATE_NOTES', '2024-05-15T14:32:00Z');
    expect(
      (
        await post('/api/v2/integrations/crm/contact/update', crmUpdate('session_crm_2'), {
          'idempotency-key': key,
        })
      ).statusCode,
    ).toBe(200);
    const reused = await post(
      '/api/v2/integrations/crm/contact/update',
      crmUpdate('session_crm_2', 'something else'),
      { 'idempotency-key': key },
    );
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(
      await rows('SELECT id FROM crm_contact_notes WHERE session_id = $1', ['session_crm_2']),
    ).toHaveLength(1);
  });

  it('a write while another owner holds the session lock waits and then fails with 409, writing nothing', async () => {
    const lock = await post('/api/v1/state/locks/acquire', lockRequest('session_crm_3', 'us-east-1', 5000));
    expect(lock.statusCode).toBe(200);
    const key = idempotencyKeyFor('session_crm_3', 'UPDATE_NOTES', '2024-05-15T14:32:00Z');
    const blocked = await post('/api/v2/integrations/crm/contact/update', crmUpdate('session_crm_3'), {
      'idempotency-key': key,
    });
    expect(blocked.statusCode).toBe(409);
    expect(
      await rows('SELECT id FROM crm_contact_notes WHERE session_id = $1', ['session_crm_3']),
    ).toHaveLength(0);
    // With the caller's own lock, the write goes through under that lock's fence.
    const own = await post(
      '/api/v2/integrations/crm/contact/update',
      {
        ...crmUpdate('session_crm_3'),
        lock: { lock_token: lock.json().lock_token, fence: lock.json().fence },
      },
      { 'idempotency-key': idempotencyKeyFor('session_crm_3', 'UPDATE_NOTES', '2024-05-15T14:33:00Z') },
    );
    expect(own.statusCode).toBe(200);
    expect(own.json().fence).toBe(lock.json().fence);
    // A fence the lock service never issued is refused before any write.
    const forged = await post(
      '/api/v2/integrations/crm/contact/update',
      {
        ...crmUpdate('session_crm_3'),
        lock: { lock_token: lock.json().lock_token, fence: lock.json().fence + 1_000_000 },
      },
      { 'idempotency-key': idempotencyKeyFor('session_crm_3', 'UPDATE_NOTES', '2024-05-15T14:34:00Z') },
    );
    expect(forged.statusCode).toBe(422);
    expect(forged.json().code).toBe('FENCE_NOT_ISSUED');
    await post('/api/v1/state/locks/release', {
      resource_id: 'session_crm_3',
      lock_token: lock.json().lock_token,
    });
    const expired = await post(
      '/api/v2/integrations/crm/contact/update',
      {
        ...crmUpdate('session_crm_3'),
        lock: { lock_token: lock.json().lock_token, fence: lock.json().fence },
      },
      { 'idempotency-key': idempotencyKeyFor('session_crm_3', 'UPDATE_NOTES', '2024-05-15T14:35:00Z') },
    );
    expect(expired.statusCode).toBe(409);
    expect(expired.json().code).toBe('LOCK_NOT_HELD');
    expect(
      await rows('SELECT id FROM crm_contact_notes WHERE session_id = $1', ['session_crm_3']),
    ).toHaveLength(1);
  });
});

describe("CRM update under the caller's lock", () => {
  it('a retry of the same key under a lock taken again (new token and fence) runs, instead of 422 key reused', async () => {
    const sessionId = 'session_crm_relock';
    const key = idempotencyKeyFor(sessionId, 'UPDATE_NOTES', '2024-05-15T14:40:00Z');
    const first = await post('/api/v1/state/locks/acquire', lockRequest(sessionId, 'us-east-1', 5000));
    await post('/api/v1/state/locks/release', {
      resource_id: sessionId,
      lock_token: first.json().lock_token,
    });
    const withLock = (lock: { lock_token: string; fence: number }) =>
      post(
        '/api/v2/integrations/crm/contact/update',
        { ...crmUpdate(sessionId), lock },
        { 'idempotency-key': key },
      );
    // The flow's lock ran out before its update arrived: 409, nothing written, the key is free again.
    const late = await withLock({ lock_token: first.json().lock_token, fence: first.json().fence });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('LOCK_NOT_HELD');
    // It takes the lock again and retries the same operation: same deterministic key, new lock.
    const again = await post('/api/v1/state/locks/acquire', lockRequest(sessionId, 'us-east-1', 5000));
    const retried = await withLock({ lock_token: again.json().lock_token, fence: again.json().fence });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json().fence).toBe(again.json().fence);
    await post('/api/v1/state/locks/release', {
      resource_id: sessionId,
      lock_token: again.json().lock_token,
    });
    expect(await rows('SELECT id FROM crm_contact_notes WHERE session_id = $1', [sessionId])).toHaveLength(1);
  });
});

describe('locks', () => {
  it('acquire, heartbeat, release; a second acquire while held is 409 with the holder', async () => {
    const first = await post('/api/v1/state/locks/acquire', lockRequest('session_lock_1', 'us-east-1', 2000));
    expect(first.statusCode).toBe(200);
    const { lock_token, fence, expires_at } = first.json();
    expect(typeof lock_token).toBe('string');
    expect(fence).toBeGreaterThan(0);
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    const second = await post(
      '/api/v1/state/locks/acquire',
      lockRequest('session_lock_1', 'eu-west-1', 2000),
    );
    expect(second.statusCode).toBe(409);
    expect(second.json().holder).toMatchObject({
      region: 'us-east-1',
      operation_type: 'CRM_UPDATE',
      fence,
      stale_after_ms: 1500,
    });
    const hb = await post('/api/v1/state/locks/heartbeat', {
      resource_id: 'session_lock_1',
      lock_token,
      lock_ttl_ms: 2000,
    });
    expect(hb.statusCode).toBe(200);
    const released = await post('/api/v1/state/locks/release', { resource_id: 'session_lock_1', lock_token });
    expect(released.json()).toMatchObject({ released: true });
    const third = await post('/api/v1/state/locks/acquire', lockRequest('session_lock_1', 'eu-west-1', 2000));
    expect(third.statusCode).toBe(200);
    expect(third.json().fence).toBeGreaterThan(fence);
  });
});

describe('locks with the production heartbeat', () => {
  it('a lock_ttl_ms the lock would not outlive until its first heartbeat is 400 naming the field, not 500', async () => {
    // Heartbeat every 2 s: a lock must live about 3.4 s to be extended before it aborts.
    const slow = await startTestRegion(
      { REGION: 'eu-west-1', LOCK_HEARTBEAT_MS: '2000', LOCK_STALE_AFTER_MS: '5000' },
      { redis: region.redis, pg: region.pg, secret: region.secret },
    );
    try {
      const res = await slow.app.inject({
        method: 'POST',
        url: '/api/v1/state/locks/acquire',
        headers: { authorization: `Bearer ${slow.token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(lockRequest('session_short_ttl', 'eu-west-1', 2000)),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(res.json().errors[0].field).toBe('body.lock_ttl_ms');
      expect((await slow.resources.ctx.locks.inspect('session_short_ttl')).holder).toBeUndefined();
    } finally {
      await slow.stop();
    }
  });
});

describe('checkpoints', () => {
  it("the seed's checkpoint payload (flat auth_status, no schema_version) is saved by a region on the default flow schema, upcast", async () => {
    const sessionId = 'session_8f4a2c91-e5b7-4d3a-9c12-7f8e3b2a1d00';
    // Seed 001, section 3, verbatim.
    const saved = await post(`/api/v2/sessions/${sessionId}/state/checkpoint`, {
      session_id: sessionId,
      region: 'eu-west-1',
      checkpoint_id: 'chk_1715788320',
      variables: {
        routing_queue: 'billing_support_priority',
        crm_record_id: 'cust_449201',
        auth_status: 'verified',
        retry_count: 0,
        last_menu_selection: 'billing_options',
      },
      ttl_seconds: 3600,
    });
    expect(saved.statusCode, saved.body).toBe(201);
    expect(saved.json()).toMatchObject({ checkpoint_id: 'chk_1715788320', revision: 1, schema_version: 2 });
    const latest = await get(`/api/v2/sessions/${sessionId}/state/latest`);
    expect(latest.json()).toMatchObject({
      status: 'restored',
      route_to: 'resume',
      variables: {
        routing_queue: 'billing_support_priority',
        crm_record_id: 'cust_449201',
        auth: { status: 'verified', method: 'unknown' },
        retry_count: 0,
      },
    });
    expect(latest.json().variables).not.toHaveProperty('last_menu_selection');
  });
});

describe('fenced checkpoints', () => {
  it('a fence the lock service never issued is 422 and cannot lock the real holder out of its session', async () => {
    const sessionId = 'session_ckpt_fence';
    const url = `/api/v2/sessions/${sessionId}/state/checkpoint`;
    const lock = await post('/api/v1/state/locks/acquire', lockRequest(sessionId, 'us-east-1', 5000));
    expect(lock.statusCode).toBe(200);
    const { fence, lock_token } = lock.json();
    const forged = await post(url, { ...checkpointV2(sessionId, 'us-east-1'), fence: fence + 1_000_000_000 });
    expect(forged.statusCode, forged.body).toBe(422);
    expect(forged.json().code).toBe('FENCE_NOT_ISSUED');
    const real = await post(url, { ...checkpointV2(sessionId, 'us-east-1'), fence });
    expect(real.statusCode, real.body).toBe(201);
    await post('/api/v1/state/locks/release', { resource_id: sessionId, lock_token });
    const expired = await post(url, { ...checkpointV2(sessionId, 'us-east-1'), fence });
    expect(expired.statusCode).toBe(409);
    expect(expired.json().code).toBe('LOCK_NOT_HELD');
  });
});

describe('webhooks and agent state', () => {
  it('concurrent deliveries of one Genesys event: one processed, one row, one queued CRM sync', async () => {
    const event = genesysAcw();
    const all = await Promise.all(Array.from({ length: 20 }, () => post('/webhooks/genesys', event)));
    const statuses = all.map((r) => (r.statusCode === 200 ? r.json().status : r.statusCode));
    expect(statuses.filter((s) => s === 'processed')).toHaveLength(1);
    expect(statuses.every((s) => s === 'processed' || s === 'duplicate' || s === 503)).toBe(true);
    expect(
      await rows('SELECT id FROM crm_contact_notes WHERE source_event_id = $1', [event.id]),
    ).toHaveLength(1);
    const job = await region.resources.ctx.crmSync.queue.getJob(`genesys-${event.id}`);
    expect(job?.data.contactId).toBe('cust_449201');
  });

  it('agent state from CXone lands in the outbox and the state cache; an older event is ignored', async () => {
    const now = Date.now();
    const newer = cxoneAgentState(777, 'Available', new Date(now));
    const older = cxoneAgentState(777, 'Unavailable', new Date(now - 60_000));
    expect((await post('/webhooks/cxone', newer)).json()).toMatchObject({
      status: 'processed',
      outcome: 'applied',
    });
    expect((await post('/webhooks/cxone', older)).json()).toMatchObject({
      status: 'processed',
      outcome: 'ignored',
    });
    const state = await get('/api/v2/agents/cxone-777/state');
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({
      agent_id: 'cxone-777',
      platform: 'cxone',
      status: 'Available',
      version: now,
    });
    expect(await rows('SELECT version FROM agent_state_outbox WHERE key = $1', ['cxone-777'])).toHaveLength(
      2,
    );
  });

  it('a Genesys topic this service does not consume is acknowledged and ignored', async () => {
    const res = await post('/webhooks/genesys', {
      ...genesysAcw(),
      topicName: 'v2.users.abc.presence',
      eventBody: {},
    });
    expect(res.json()).toMatchObject({ status: 'processed', kind: 'ignored' });
  });

  it('a webhook storm beyond the rate limit gets 429 problems with Retry-After', async () => {
    const limited = await buildApp(
      {
        ...region.resources.ctx,
        config: { ...region.resources.ctx.config, RATE_LIMIT_MAX: 3, RATE_LIMIT_WINDOW_MS: 60_000 },
      },
      pino({ level: 'silent' }),
    );
    try {
      const event = genesysAcw();
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await limited.inject({
          method: 'POST',
          url: '/webhooks/genesys',
          headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
          payload: JSON.stringify(event),
        });
        codes.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(res.headers['content-type']).toContain('application/problem+json');
          expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
          expect(res.json().code).toBe('RATE_LIMITED');
        }
      }
      expect(codes).toEqual([200, 200, 200, 429, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
