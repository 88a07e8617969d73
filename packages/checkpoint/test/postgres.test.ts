import { type PostgresHandle, startPostgres } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCheckpointStore } from '../src/index.js';
import { conformance } from './support/conformance.js';
import type { Harness } from './support/harness.js';
import { seedVariables, v3 } from './support/schemas.js';

let database: PostgresHandle;
let pool: pg.Pool;
let second: pg.Pool;
const table = 'checkpoints_test';

beforeAll(async () => {
  database = await startPostgres();
  pool = new pg.Pool({ connectionString: database.url, max: 8 });
  second = new pg.Pool({ connectionString: database.url, max: 4 });
  await new PostgresCheckpointStore({ db: pool, schema: v3, table }).migrate();
});

afterAll(async () => {
  await pool?.end();
  await second?.end();
  await database?.stop();
});

conformance(
  'PostgreSQL',
  (): Harness => ({
    store: (schema, options) => new PostgresCheckpointStore({ db: pool, schema, table, ...options }),
    otherStore: (schema, options) => new PostgresCheckpointStore({ db: second, schema, table, ...options }),
    corrupt: async (sessionId, raw) => {
      await pool.query(
        `UPDATE ${table} r SET payload = $2 FROM ${table}_sessions s
       WHERE r.session_id = $1 AND s.session_id = $1 AND r.revision = s.revision`,
        [sessionId, raw],
      );
    },
    rawLatest: async (sessionId) => {
      const { rows } = await pool.query(
        `SELECT r.payload FROM ${table} r JOIN ${table}_sessions s
       ON s.session_id = r.session_id AND s.revision = r.revision WHERE s.session_id = $1`,
        [sessionId],
      );
      return rows[0]?.payload;
    },
  }),
);

describe('PostgreSQL specifics', () => {
  it('migrate() is idempotent under concurrency and sweep() removes expired sessions with their rows', async () => {
    const store = new PostgresCheckpointStore({
      db: pool,
      schema: v3,
      table,
      ttlSeconds: 1,
      maxAgeSeconds: 1,
    });
    await store.migrate();
    await store.save('sweep_me', { region: 'eu-west-1', flowVersion: 1, variables: seedVariables });
    await pool.query(
      `UPDATE ${table}_sessions SET expires_at = now() - interval '1 second' WHERE session_id = 'sweep_me'`,
    );
    expect(await store.sweep({ limit: 10_000 })).toBeGreaterThanOrEqual(1);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE session_id = 'sweep_me'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
