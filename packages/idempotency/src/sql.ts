import { createHash } from 'node:crypto';
import { FINGERPRINT_VERSION } from './json.js';
import { batchStatements } from './sql-batch.js';
import {
  CLAIM_COLUMNS,
  CLAIM_PARAMS,
  CLAIMED,
  claimValues,
  completion,
  expired,
  record,
  takeoverWhere,
} from './sql-record.js';

export type { RecordRow } from './sql-record.js';

/** A statement with a stable name, so pg can prepare it once per connection. */
export interface Statement {
  name: string;
  text: string;
}

/**
 * Version of the stored layout. A table of another layout is refused by `migrate()` (see
 * `layoutCheck`) and shares no prepared statement name with this one.
 */
export const LAYOUT_VERSION = 2;

// Versioned names hashed from the text: two library versions or tables never share a prepared name.
const named = (kind: string, text: string): Statement => ({
  name: `cxkit_idem_v${LAYOUT_VERSION}_${kind}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
  text,
});

/** Quotes `name` or `schema.name` (already validated against the identifier pattern). */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

export interface CompletionCheckRow {
  state: string;
  fence: string | null;
  lease_owner: string | null;
}

/** What a store fixes at construction; written into the statements as constants rather than sent. */
export interface StatementConstants {
  /** inProgressTtlMs. */
  leaseMs: number;
  ttlSeconds: number;
  /** NOTIFY channel for waiters (validated identifier characters only), or null without LISTEN. */
  channel: string | null;
}

/**
 * Every statement the store issues, built once per store. All time comes from the server's now().
 * Per-store constants are literals (fewer parameters to bind; the planner folds them), so the
 * statement names, hashed from the text, differ between differently configured stores.
 */
export function statements(table: string, c: StatementConstants) {
  const t = quoteTable(table);
  const lease = `now() + ${Math.trunc(c.leaseMs)} * interval '1 millisecond'`;
  // A record never expires before the lease of the run that holds it ends (see `expired`).
  const expiry = `GREATEST(now() + ${Math.trunc(c.ttlSeconds)} * interval '1 second', ${lease})`;
  const channel = c.channel === null ? 'NULL::text' : `'${c.channel.replace(/'/g, "''")}'::text`;
  const base = table.split('.').pop() as string;
  const idx = (suffix: string) => `"${`${base}_${suffix}`.slice(0, 63)}"`;
  const many = batchStatements({ t, lease, expiry, channel });
  const single = completion(
    '',
    { key: '$1', owner: '$2', state: '$3', status: '$4', headers: '$5', body: '$6', fence: '$7' },
    channel,
  );
  return {
    // Every row is updated once (completion) right after its insert: free space on the page lets that
    // update be HOT, so neither index is touched again. Columns the completion never changes come
    // first: the WAL record of a HOT update leaves out the unchanged prefix. No CHECK on `state`: only
    // this library writes it, and a CHECK is re-read from the catalog text by every INSERT and UPDATE.
    // Layout 2 (fingerprint bytea, no created_at: it is always expires_at - ttl).
    migrate: [
      `CREATE TABLE IF NOT EXISTS ${t} (
        key text PRIMARY KEY,
        fingerprint bytea NOT NULL,
        fingerprint_version smallint NOT NULL,
        lease_owner uuid,
        expires_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 1,
        contended boolean NOT NULL DEFAULT false,
        claimed_from text,
        fence bigint,
        state text NOT NULL,
        lease_expires_at timestamptz,
        updated_at timestamptz,
        response_status integer,
        response_headers json,
        response_body json
      ) WITH (fillfactor = 80)`,
      // The primary key serves the hot path; this one lets sweep find expired rows without a scan.
      `CREATE INDEX IF NOT EXISTS ${idx('expires_at_idx')} ON ${t} (expires_at)`,
    ],

    /**
     * The type of the table's `fingerprint` column: 'bytea' for this layout, 'text' for layout 1
     * (0.1.x), null when the column is missing. $1 the quoted table name.
     */
    layoutCheck: `SELECT format_type(atttypid, atttypmod) AS fingerprint FROM pg_attribute
      WHERE attrelid = $1::regclass AND attname = 'fingerprint' AND NOT attisdropped`,

    /**
     * One round trip: insert a new key, or return the existing record with the server's verdict. An
     * existing key is a DO NOTHING found by the arbiter index probe before anything is written, so a
     * replay is a plain read (no row lock, no transaction id, no WAL flush) and a concurrent insert is
     * never a unique violation; the existing row then comes back through the UNION branch (same
     * snapshot, so never both; after a fresh insert that branch is a one-time filter that skips its index
     * probe). A record that may be taken over (expired, failed, lease ran out) costs
     * one more statement, `takeover`; keeping that UPDATE out of this one keeps the hot statement small.
     * A row the snapshot could not see at all is read afresh by `read`. A claim's remaining lifetime is
     * `ttlSeconds` by construction (expires_at is now() + ttl), so its row carries no `ms`.
     * $1 key, $2 fingerprint, $3 owner token, $4 fence.
     */
    claim: named(
      'claim',
      `WITH claim AS (
      INSERT INTO ${t} (${CLAIM_COLUMNS})
      VALUES (${claimValues({ key: '$1::text', fp: '$2::bytea', owner: '$3::uuid', fence: '$4::bigint' }, lease, expiry)})
      ON CONFLICT (key) DO NOTHING
      RETURNING 1
    )
    SELECT ${CLAIMED}
    FROM claim
    UNION ALL
    SELECT ${record(CLAIM_PARAMS)} FROM ${t} WHERE key = $1::text AND NOT EXISTS (SELECT 1 FROM claim)`,
    ),

    /**
     * Takes over a record the claim found takeable, re-checking that under the row lock (another pod
     * may have taken it first: then no row, and the caller claims again). Same parameters as `claim`.
     */
    takeover: named(
      'takeover',
      `UPDATE ${t} AS r SET
        fingerprint = $2::bytea,
        fingerprint_version = ${FINGERPRINT_VERSION}::smallint,
        state = 'in_progress',
        response_status = NULL, response_headers = NULL, response_body = NULL,
        lease_expires_at = ${lease},
        fence = CASE WHEN ${expired('r.')} THEN $4::bigint ELSE GREATEST(r.fence, $4::bigint) END,
        attempts = CASE WHEN ${expired('r.')} THEN 1
                        WHEN r.lease_owner = $3::uuid THEN r.attempts ELSE r.attempts + 1 END,
        claimed_from = CASE WHEN ${expired('r.')} THEN 'expired'
                            WHEN r.lease_owner = $3::uuid THEN r.claimed_from
                            WHEN r.state = 'in_progress' THEN 'lease_expired' ELSE r.state END,
        lease_owner = $3::uuid,
        contended = false,
        expires_at = CASE WHEN ${expired('r.')} THEN ${expiry} ELSE GREATEST(r.expires_at, ${lease}) END,
        updated_at = now()
      WHERE r.key = $1::text AND (${takeoverWhere('r.', CLAIM_PARAMS)})
      RETURNING 'claimed' AS verdict, attempts, claimed_from, date_part('epoch', expires_at - now()) * 1000 AS ms`,
    ),

    /**
     * Fresh-snapshot read of a row the claim's snapshot could not see, with the same verdict columns.
     * Same parameters as `claim`.
     */
    read: named('read', `SELECT ${record(CLAIM_PARAMS)} FROM ${t} WHERE key = $1::text`),

    /**
     * Completion or release, only by the lease owner and never with a lower fence. A plain UPDATE with
     * no RETURNING (no CTE, no row to describe or parse: the cheapest write Postgres offers here); the
     * affected-row count says whether it was accepted, and `finishCheck` reads why not (the rule is
     * `completion`, shared with `finishMany`). The owner check runs
     * on the version in the statement's snapshot, so a completion that waits on a concurrent takeover
     * (or sweep) and is then rejected by the re-check on the committed row has still queued its NOTIFY:
     * a stray wake-up, harmless because a woken waiter reads the record again, as after a poll. The
     * record's lifetime is known from the claim, so nothing comes back. $1 key, $2 owner, $3 state,
     * $4 status, $5 headers, $6 body, $7 fence.
     */
    finish: named('finish', `UPDATE ${t} SET ${single.set} WHERE key = $1 AND ${single.accepted}`),

    /** Why a completion was rejected (rare: lease lost, stale fence, or a retried commit). $1 key. */
    finishCheck: named(
      'finishCheck',
      `SELECT state, fence::text AS fence, lease_owner::text AS lease_owner FROM ${t} WHERE key = $1`,
    ),

    /** A waiter asks the finisher to NOTIFY; returns the live lease so the wait is bounded. $1 key. */
    markContended: named(
      'markContended',
      `UPDATE ${t} SET contended = true WHERE key = $1 AND state = 'in_progress'
      RETURNING date_part('epoch', lease_expires_at - now()) * 1000 AS lease_ms`,
    ),

    /** Claims of many calls in one statement (see `batchStatements`). */
    claimMany: named('claimMany', many.claimMany),
    /** Completions of many runs in one statement. */
    finishMany: named('finishMany', many.finishMany),

    /** Deletes up to $1 expired rows (never one under a live lease); SKIP LOCKED lets many pods sweep without waiting on each other. */
    sweep: named(
      'sweep',
      `WITH doomed AS (
      SELECT key FROM ${t} WHERE ${expired('')} ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ${t} AS r USING doomed WHERE r.key = doomed.key RETURNING 1
    )
    SELECT count(*)::integer AS deleted FROM gone`,
    ),
  };
}

export type Statements = ReturnType<typeof statements>;
