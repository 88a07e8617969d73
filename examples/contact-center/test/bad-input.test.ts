import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  checkpointV1,
  checkpointV2,
  crmUpdate,
  cxoneAgentState,
  genesysAcw,
  idempotencyKeyFor,
  lockRequest,
} from '../src/demo/payloads.js';
import { issueToken } from '../src/http/tokens.js';
import { regionPerFile, type TestRegion } from './helpers/in-process-region.js';

/**
 * Every route against bad input: missing and invalid fields, wrong types, oversized bodies, malformed
 * JSON, missing or bad tokens, malformed Idempotency-Key. Each gets the right 4xx problem, and the
 * database (and Redis) show that nothing was written.
 */
let region: TestRegion;
regionPerFile(
  (r) => {
    region = r;
  },
  { lockQuorum: true },
);

const KEY = idempotencyKeyFor('session_bad', 'UPDATE_NOTES', '2024-05-15T14:32:00Z');

const valid: Record<
  string,
  { method: 'GET' | 'POST'; url: string; body?: unknown; headers?: Record<string, string> }
> = {
  acquire: {
    method: 'POST',
    url: '/api/v1/state/locks/acquire',
    body: lockRequest('session_bad', 'us-east-1', 2000),
  },
  release: {
    method: 'POST',
    url: '/api/v1/state/locks/release',
    body: { resource_id: 'session_bad', lock_token: 'tok_12345678' },
  },
  heartbeat: {
    method: 'POST',
    url: '/api/v1/state/locks/heartbeat',
    body: { resource_id: 'session_bad', lock_token: 'tok_12345678' },
  },
  crm: {
    method: 'POST',
    url: '/api/v2/integrations/crm/contact/update',
    body: crmUpdate('session_bad'),
    headers: { 'idempotency-key': KEY },
  },
  checkpoint: {
    method: 'POST',
    url: '/api/v2/sessions/session_bad/state/checkpoint',
    body: checkpointV2('session_bad', 'us-east-1'),
  },
  latest: { method: 'GET', url: '/api/v2/sessions/session_bad/state/latest' },
  genesys: { method: 'POST', url: '/webhooks/genesys', body: genesysAcw() },
  cxone: { method: 'POST', url: '/webhooks/cxone', body: cxoneAgentState(4242, 'Available') },
  agent: { method: 'GET', url: '/api/v2/agents/agent_bad/state' },
};

function inject(
  route: keyof typeof valid,
  override: { body?: unknown; headers?: Record<string, string>; url?: string; token?: string | null } = {},
) {
  const r = valid[route]!;
  const token = override.token === undefined ? region.token : override.token;
  const body = 'body' in override ? override.body : r.body;
  return region.app.inject({
    method: r.method,
    url: override.url ?? r.url,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...r.headers,
      ...override.headers,
    },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
}

/** Rows the routes could have written, and the fence counter a lock acquisition would have bumped. */
async function written() {
  const db = region.resources.ctx.db;
  const count = async (table: string) =>
    Number((await db.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const latest = await region.resources.ctx.checkpoints.latest('session_bad');
  const inspection = await region.resources.ctx.locks.inspect('session_bad');
  return {
    notes: await count('crm_contact_notes'),
    fences: await count('crm_session_fences'),
    outbox: await count('agent_state_outbox'),
    idempotency: await count('idempotency_keys'),
    checkpoint: latest.status,
    lockHolder: inspection.holder?.token ?? null,
  };
}
const nothing = { notes: 0, fences: 0, outbox: 0, idempotency: 0, checkpoint: 'absent', lockHolder: null };

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  const body = res.json() as { status: number; type: string; title: string };
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\//);
  return body as { errors?: { field: string; message: string }[]; code?: string };
}

describe('authentication on every route but the probes', () => {
  it.each(Object.keys(valid) as (keyof typeof valid)[])(
    '%s: 401 without a token, with a bad signature, expired; 403 without scope',
    async (route) => {
      const wrongKey = await issueToken('x'.repeat(64), [
        'session:read',
        'session:write',
        'webhooks:deliver',
        'agents:read',
      ]);
      const expired = await new SignJWT({ scope: 'session:read session:write webhooks:deliver agents:read' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(region.secret));
      const unrelatedScope = await issueToken(
        region.secret,
        route === 'agent' ? ['session:read'] : ['agents:read'],
      );
      for (const token of [null, 'not-a-jwt', wrongKey, expired]) {
        const res = await inject(route, { token });
        expectProblem(res, 401);
        expect(res.headers['www-authenticate']).toContain('Bearer');
      }
      const forbidden = expectProblem(await inject(route, { token: unrelatedScope }), 403);
      expect(forbidden.code).toBe('FORBIDDEN');
      expect(await written()).toEqual(nothing);
    },
  );

  it('probes answer without a token', async () => {
    for (const url of ['/health', '/health/live', '/health/ready']) {
      const res = await region.app.inject({ method: 'GET', url });
      expect([200, 503]).toContain(res.statusCode);
      expect((res.json() as { components: object }).components).toBeTypeOf('object');
    }
  });
});

describe('validation: 400 naming the fields, nothing written', () => {
  const cases: [keyof typeof valid, string, Record<string, unknown>, string[]][] = [
    ['acquire', 'missing fields', { resource_id: 'session_bad' }, ['body.region_origin', 'body.lock_ttl_ms']],
    [
      'acquire',
      'wrong types',
      { ...lockRequest('session_bad', 'us-east-1'), lock_ttl_ms: '15000' },
      ['body.lock_ttl_ms'],
    ],
    ['acquire', 'ttl out of range', lockRequest('session_bad', 'us-east-1', 100), ['body.lock_ttl_ms']],
    [
      'acquire',
      'ttl above the maximum',
      lockRequest('session_bad', 'us-east-1', 60_000),
      ['body.lock_ttl_ms'],
    ],
    ['acquire', 'unknown field', { ...lockRequest('session_bad', 'us-east-1', 2000), force: true }, ['body']],
    [
      'acquire',
      'bad resource id',
      lockRequest('session bad; DROP TABLE', 'us-east-1', 2000),
      ['body.resource_id'],
    ],
    ['release', 'missing token', { resource_id: 'session_bad' }, ['body.lock_token']],
    ['heartbeat', 'wrong type', { resource_id: 'session_bad', lock_token: 12345678 }, ['body.lock_token']],
    [
      'crm',
      'missing payload',
      { session_id: 'session_bad', contact_id: 'c1', operation: 'UPDATE_NOTES' },
      ['body.payload'],
    ],
    [
      'crm',
      'bad timestamp and type',
      {
        ...crmUpdate('session_bad'),
        payload: { ...crmUpdate('x').payload, timestamp: 'yesterday', interaction_type: 'fax' },
      },
      ['body.payload.timestamp', 'body.payload.interaction_type'],
    ],
    [
      'crm',
      'unknown operation',
      { ...crmUpdate('session_bad'), operation: 'DELETE_CONTACT' },
      ['body.operation'],
    ],
    [
      'checkpoint',
      'variables of the wrong schema',
      { ...checkpointV2('session_bad', 'us-east-1'), variables: { routing_queue: 7 } },
      ['body.variables.routing_queue'],
    ],
    [
      'checkpoint',
      'v1 variables sent as v2',
      { ...checkpointV1('session_bad', 'us-east-1'), schema_version: 2 },
      ['body.variables'],
    ],
    [
      'checkpoint',
      'session id differs from the path',
      checkpointV2('session_other', 'us-east-1'),
      ['body.session_id'],
    ],
    [
      'checkpoint',
      'bad region',
      { ...checkpointV2('session_bad', 'us-east-1'), region: 'US EAST' },
      ['body.region'],
    ],
    ['genesys', 'not a uuid id', { ...genesysAcw(), id: 'abc' }, ['body.id']],
    [
      'genesys',
      'ACW body missing fields',
      { ...genesysAcw(), eventBody: { conversationId: 'x' } },
      ['body.eventBody.eventTime', 'body.eventBody.conversationId'],
    ],
    [
      'genesys',
      'ACW eventTime past the largest date',
      (() => {
        const e = genesysAcw();
        return { ...e, eventBody: { ...e.eventBody, eventTime: 9_000_000_000_000_000 } };
      })(),
      ['body.eventBody.eventTime'],
    ],
    [
      'cxone',
      'unknown event type',
      { ...cxoneAgentState(1, 'Available'), eventType: 'Teleport' },
      ['body.eventType'],
    ],
    ['cxone', 'bad state', cxoneAgentState(1, 'Sleeping'), ['body.data.state']],
    [
      'cxone',
      'state change dated before 1970 (a negative version)',
      cxoneAgentState(1, 'Available', new Date('1969-12-31T23:59:59Z')),
      ['body.data.startDate'],
    ],
    [
      'cxone',
      'state change dated years ahead (its version would hide every real change after it)',
      cxoneAgentState(1, 'Available', new Date('9999-01-01T00:00:00Z')),
      ['body.data.startDate'],
    ],
    [
      'genesys',
      'routing status dated before 1970 (a negative version)',
      {
        ...genesysAcw(),
        topicName: 'v2.users.6f1c2e9a-4b7d-4e21-9c3a-1d2e3f4a5b6c.routingStatus',
        eventBody: {
          routingStatus: {
            userId: '6f1c2e9a-4b7d-4e21-9c3a-1d2e3f4a5b6c',
            status: 'IDLE',
            startTime: '1969-12-31T23:59:59.000Z',
          },
        },
      },
      ['body.eventBody.routingStatus.startTime'],
    ],
  ];

  it.each(cases)('%s: %s', async (route, _what, body, fields) => {
    const problem = expectProblem(await inject(route, { body }), 400);
    const reported = (problem.errors ?? []).map((e) => e.field);
    for (const field of fields)
      expect(
        reported.some((f) => f.startsWith(field)),
        `${field} in ${reported}`,
      ).toBe(true);
    expect(await written()).toEqual(nothing);
  });

  it.each([
    ['missing', {}],
    ['not sha256', { 'idempotency-key': 'abc' }],
    ['uppercase hex', { 'idempotency-key': `sha256:${'A'.repeat(64)}` }],
    ['too short', { 'idempotency-key': `sha256:${'a'.repeat(63)}` }],
  ])('crm: Idempotency-Key %s -> 400', async (_what, headers) => {
    const res = await region.app.inject({
      method: 'POST',
      url: valid.crm!.url,
      headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(crmUpdate('session_bad')),
    });
    const problem = expectProblem(res, 400);
    expect(problem.errors?.[0]?.field).toBe('headers.idempotency-key');
    expect(await written()).toEqual(nothing);
  });

  it('path parameters are validated', async () => {
    expectProblem(await inject('latest', { url: `/api/v2/sessions/${'s'.repeat(200)}/state/latest` }), 400);
    expectProblem(await inject('checkpoint', { url: '/api/v2/sessions/bad%20id/state/checkpoint' }), 400);
    expectProblem(await inject('agent', { url: '/api/v2/agents/a%3Bb/state' }), 400);
    expect(await written()).toEqual(nothing);
  });

  it('a checkpoint for another flow schema version is 422', async () => {
    const problem = expectProblem(
      await inject('checkpoint', {
        body: { ...checkpointV1('session_bad', 'us-east-1'), schema_version: 1 },
      }),
      422,
    );
    expect(problem.code).toBe('SCHEMA_VERSION_MISMATCH');
    expect(await written()).toEqual(nothing);
  });
});

describe('transport: size, media type, JSON', () => {
  it.each(['acquire', 'crm', 'checkpoint', 'genesys', 'cxone'] as const)(
    '%s: oversized body -> 413, malformed JSON -> 400, wrong media type -> 415',
    async (route) => {
      const big = { ...(valid[route]!.body as object), padding: 'x'.repeat(20_000) };
      expectProblem(await inject(route, { body: big }), 413);
      expectProblem(await inject(route, { body: '{"resource_id": ' }), 400);
      expectProblem(
        await inject(route, {
          body: 'a=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
      );
      expect(await written()).toEqual(nothing);
    },
  );
});

describe('unknown things', () => {
  it('unknown agent -> 404 problem; unknown route -> 404 problem', async () => {
    expect(expectProblem(await inject('agent'), 404).code).toBe('AGENT_STATE_NOT_FOUND');
    expectProblem(await region.app.inject({ method: 'GET', url: '/api/v9/nothing' }), 404);
  });

  it('release/heartbeat of a lock this region does not hold -> 409 LOCK_NOT_HELD', async () => {
    expect(expectProblem(await inject('release'), 409).code).toBe('LOCK_NOT_HELD');
    expect(expectProblem(await inject('heartbeat'), 409).code).toBe('LOCK_NOT_HELD');
  });

  it('after all of the above, the valid requests still work (nothing half-written blocks them)', async () => {
    expect((await inject('crm')).statusCode).toBe(200);
    expect((await inject('checkpoint')).statusCode).toBe(201);
    expect((await inject('genesys')).json()).toMatchObject({ status: 'processed' });
    const notes = await region.resources.ctx.db.query('SELECT fence FROM crm_contact_notes');
    expect(notes.rows).toHaveLength(2);
  });
});
