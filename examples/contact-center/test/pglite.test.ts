import { randomBytes } from 'node:crypto';
import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../src/demo/api-client.js';
import { crmUpdate, genesysAcw, idempotencyKeyFor } from '../src/demo/payloads.js';
import { RegionProcess } from '../src/demo/region-process.js';
import { issueToken } from '../src/http/tokens.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/infra/pglite-server.js';

/** The fallback for machines without a PostgreSQL server: a region process talks to PGlite over the wire. */
describe('region process on embedded PGlite', () => {
  let db: EmbeddedPostgres;
  let redis: RedisNodes;
  let region: RegionProcess;
  let pool: pg.Pool;
  let token: string;

  beforeAll(async () => {
    db = await startEmbeddedPostgres();
    redis = await startRedisNodes(3, { private: true });
    const secret = randomBytes(32).toString('hex');
    token = await issueToken(secret, ['session:read', 'session:write', 'webhooks:deliver']);
    region = await RegionProcess.start('us-east-1', {
      DATABASE_URL: db.url,
      REDIS_NODES: redis.urls.join(','),
      JWT_SECRET: secret,
      LOCK_TTL_MS: '2000',
      LOCK_MAX_TTL_MS: '2000',
      LOCK_HEARTBEAT_MS: '500',
      LOCK_STALE_AFTER_MS: '1500',
      HEALTH_INTERVAL_MS: '300',
      HEALTH_MAX_EVENT_LOOP_DELAY_MS: '2000',
      // PGlite serves every connection from one session: no named prepared statements.
      DATABASE_PREPARED_STATEMENTS: 'false',
      LOG_LEVEL: 'warn',
    });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  }, 120_000);

  afterAll(async () => {
    await region?.process.stop();
    await pool?.end();
    await redis?.stop();
    await db?.stop();
  }, 60_000);

  it('migrates, reports healthy, and writes fenced CRM notes and webhook notes to PGlite', async () => {
    await waitUntil(
      'healthy on PGlite',
      async () => (await call(region.url, 'GET', '/health')).status === 200,
      30_000,
      200,
    );
    const key = idempotencyKeyFor('session_pglite', 'UPDATE_NOTES', '2024-05-15T14:32:00Z');
    let update = await call(region.url, 'POST', '/api/v2/integrations/crm/contact/update', {
      token,
      headers: { 'idempotency-key': key },
      body: crmUpdate('session_pglite'),
    });
    // Fresh lock nodes join the quorum after the amnesia guard window (LOCK_MAX_TTL_MS).
    const deadline = Date.now() + 20_000;
    while (update.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      update = await call(region.url, 'POST', '/api/v2/integrations/crm/contact/update', {
        token,
        headers: { 'idempotency-key': key },
        body: crmUpdate('session_pglite'),
      });
    }
    expect(update.status, `${JSON.stringify(update.body)}\n${region.process.tail()}`).toBe(200);
    const event = genesysAcw();
    expect((await call(region.url, 'POST', '/webhooks/genesys', { token, body: event })).body.status).toBe(
      'processed',
    );
    expect((await call(region.url, 'POST', '/webhooks/genesys', { token, body: event })).body.status).toBe(
      'duplicate',
    );
    const { rows } = await pool.query<{ source: string; fence: string | null }>(
      'SELECT source, fence FROM crm_contact_notes ORDER BY id',
    );
    expect(rows.map((r) => r.source)).toEqual(['api', 'genesys']);
    expect(Number(rows[0]?.fence)).toBe(update.body.fence);
  });
});
