import type pg from 'pg';

/**
 * The example's own tables. The packages create theirs (`IdempotencyStore.migrate()`); these are the
 * "CRM" (`crm_contact_notes` with a per-session fence), the agent-state outbox, the lock override audit
 * and the provisioning ledger.
 */
const statements = [
  `CREATE TABLE IF NOT EXISTS crm_contact_notes (
     id               bigserial PRIMARY KEY,
     session_id       text        NOT NULL,
     contact_id       text        NOT NULL,
     operation        text        NOT NULL,
     interaction_type text        NOT NULL,
     agent_id         text        NOT NULL,
     notes            text        NOT NULL,
     event_time       timestamptz NOT NULL,
     source           text        NOT NULL CHECK (source IN ('api', 'genesys', 'cxone')),
     source_event_id  text UNIQUE,
     idempotency_key  text UNIQUE,
     fence            bigint,
     region           text        NOT NULL,
     created_at       timestamptz NOT NULL DEFAULT now(),
     synced_at        timestamptz
   )`,
  'CREATE INDEX IF NOT EXISTS crm_contact_notes_session ON crm_contact_notes (session_id)',
  // The highest lock fence that has written for a session: a write with a lower fence is refused.
  `CREATE TABLE IF NOT EXISTS crm_session_fences (
     session_id text PRIMARY KEY,
     fence      bigint      NOT NULL,
     region     text        NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  // Columns as @cxkit/state-cache's postgresOutboxSource reads them (key = agent id), plus the event id.
  `CREATE TABLE IF NOT EXISTS agent_state_outbox (
     id              bigserial PRIMARY KEY,
     key             text        NOT NULL,
     version         bigint      NOT NULL,
     type            text        NOT NULL CHECK (type IN ('CREATED', 'UPDATED', 'DELETED')),
     value           jsonb,
     source_event_id text UNIQUE NOT NULL,
     created_at      timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS lock_overrides (
     id              bigserial PRIMARY KEY,
     resource_id     text        NOT NULL,
     previous_region text,
     previous_fence  bigint,
     previous_operation text,
     region          text        NOT NULL,
     fence           bigint      NOT NULL,
     correlation_id  text,
     overridden_at   timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS agent_provisioning (
     operation_id text PRIMARY KEY,
     batch_id     text        NOT NULL,
     agent_id     text        NOT NULL,
     status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
     remote_id    text,
     attempts     integer     NOT NULL DEFAULT 0,
     planned_at   timestamptz NOT NULL DEFAULT now(),
     completed_at timestamptz
   )`,
  'CREATE INDEX IF NOT EXISTS agent_provisioning_pending ON agent_provisioning (batch_id, status)',
];

/** Creates the example's tables; safe to run from every region at once (advisory lock). */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('cxkit-example-contact-center'))");
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
