import { createHash } from 'node:crypto';

/** A statement with a stable name, so pg can prepare it once per connection. */
export interface Statement {
  name: string;
  text: string;
}

// Versioned names hashed from the text: two library versions or tables never share a prepared name.
const named = (kind: string, text: string): Statement => ({
  name: `cxkit_idem_v1_${kind}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
  text,
});

/** Quotes `name` or `schema.name` (already validated against the identifier pattern). */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((p) => `"${p}"`)
    .join('.');
}

/**
 * Columns every read returns; texts for JSON so `null` and absent stay distinct. Remaining times use
 * date_part (float8): extract() returns numeric, whose arithmetic is measurably slower on the hot path.
 */
const RECORD = `fingerprint, fingerprint_version, state, response_status,
  response_headers::text AS response_headers, response_body::text AS response_body,
  lease_owner::text AS lease_owner, fence::text AS fence, attempts, claimed_from,
  date_part('epoch', expires_at - now()) * 1000 AS ttl_ms,
  date_part('epoch', lease_expires_at - now()) * 1000 AS lease_ms`;

/** What a successful claim returns: the same columns, its response ones always empty. */
const CLAIMED = `fingerprint, fingerprint_version, state, NULL::integer AS response_status,
  NULL::text AS response_headers, NULL::text AS response_body,
  lease_owner::text AS lease_owner, fence::text AS fence, attempts, claimed_from,
  date_part('epoch', expires_at - now()) * 1000 AS ttl_ms,
  date_part('epoch', lease_expires_at - now()) * 1000 AS lease_ms, true AS claimed`;

export interface RecordRow {
  fingerprint: string;
  fingerprint_version: number;
  state: 'in_progress' | 'completed' | 'failed';
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  lease_owner: string | null;
  fence: string | null;
  attempts: number;
  claimed_from: string | null;
  ttl_ms: number;
  lease_ms: number | null;
  claimed?: boolean;
}

export interface CompletionRow {
  ttl_ms: number;
  woken: number;
}

export interface CompletionCheckRow {
  state: string;
  fence: string | null;
  lease_owner: string | null;
}

/** Every statement the store issues, built once per table. All time comes from the server's now(). */
export function statements(table: string) {
  const t = quoteTable(table);
  const base = table.split('.').pop() as string;
  const idx = (suffix: string) => `"${`${base}_${suffix}`.slice(0, 63)}"`;
  return {
    // Every row is updated once (completion) right after its insert: free space on the page lets that
    // update be HOT, so neither index is touched again.
    migrate: [
      `CREATE TABLE IF NOT EXISTS ${t} (
        key text PRIMARY KEY,
        fingerprint text NOT NULL,
        fingerprint_version smallint NOT NULL,
        state text NOT NULL CHECK (state IN ('in_progress', 'completed', 'failed')),
        response_status integer,
        response_headers json,
        response_body json,
        lease_owner uuid,
        lease_expires_at timestamptz,
        fence bigint,
        attempts integer NOT NULL DEFAULT 1,
        claimed_from text,
        contended boolean NOT NULL DEFAULT false,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 80)`,
      // The primary key serves the hot path; this one lets sweep find expired rows without a scan.
      `CREATE INDEX IF NOT EXISTS ${idx('expires_at_idx')} ON ${t} (expires_at)`,
    ],

    /**
     * One round trip: insert, or take over an expired record / failed run / expired lease with the same
     * fingerprint (and a fence not lower than the recorded one). When the statement's snapshot already
     * shows a record that cannot be taken over (completed, live lease, other request, higher fence) the
     * INSERT is skipped, so a replay is a plain read: no row lock, no transaction id, no WAL flush. A
     * conflict that is not taken over comes back through the UNION branch (same snapshot); no unique
     * violation is ever raised. The existing row is probed with plain index lookups rather than a
     * materialized CTE, and a claim returns its (always empty) response columns as literals: both are
     * measurable on the miss path. $1 key, $2 fingerprint, $3 fingerprint version, $4 owner token,
     * $5 lease ms, $6 fence, $7 ttl s.
     */
    claim: named(
      'claim',
      `WITH claim AS (
      INSERT INTO ${t} AS r (key, fingerprint, fingerprint_version, state, lease_owner, lease_expires_at, fence, expires_at)
      SELECT $1::text, $2::text, $3::smallint, 'in_progress', $4::uuid, now() + $5::integer * interval '1 millisecond',
             $6::bigint, now() + $7::integer * interval '1 second'
      WHERE NOT EXISTS (
        SELECT 1 FROM ${t} s WHERE s.key = $1::text AND s.expires_at > now() AND (
          s.state = 'completed'
          OR (s.fingerprint <> $2::text AND s.fingerprint_version = $3::smallint)
          OR ($6::bigint IS NOT NULL AND s.fence IS NOT NULL AND $6::bigint < s.fence)
          OR (s.state = 'in_progress' AND s.lease_expires_at > now() AND s.lease_owner IS DISTINCT FROM $4::uuid)))
      ON CONFLICT (key) DO UPDATE SET
        fingerprint = EXCLUDED.fingerprint,
        fingerprint_version = EXCLUDED.fingerprint_version,
        state = 'in_progress',
        response_status = NULL, response_headers = NULL, response_body = NULL,
        lease_expires_at = EXCLUDED.lease_expires_at,
        fence = CASE WHEN r.expires_at <= now() THEN EXCLUDED.fence ELSE GREATEST(r.fence, EXCLUDED.fence) END,
        attempts = CASE WHEN r.expires_at <= now() THEN 1
                        WHEN r.lease_owner = EXCLUDED.lease_owner THEN r.attempts ELSE r.attempts + 1 END,
        claimed_from = CASE WHEN r.expires_at <= now() THEN 'expired'
                            WHEN r.lease_owner = EXCLUDED.lease_owner THEN r.claimed_from
                            WHEN r.state = 'in_progress' THEN 'lease_expired' ELSE r.state END,
        lease_owner = EXCLUDED.lease_owner,
        contended = false,
        expires_at = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at ELSE r.expires_at END,
        created_at = CASE WHEN r.expires_at <= now() THEN now() ELSE r.created_at END,
        updated_at = now()
      WHERE r.expires_at <= now()
         OR (r.state = 'in_progress' AND r.lease_owner = EXCLUDED.lease_owner)
         OR ((r.fingerprint = EXCLUDED.fingerprint OR r.fingerprint_version <> EXCLUDED.fingerprint_version)
             AND (EXCLUDED.fence IS NULL OR r.fence IS NULL OR EXCLUDED.fence >= r.fence)
             AND (r.state = 'failed' OR (r.state = 'in_progress' AND r.lease_expires_at <= now())))
      RETURNING ${CLAIMED}
    )
    SELECT * FROM claim
    UNION ALL
    SELECT ${RECORD}, false AS claimed FROM ${t} WHERE key = $1::text AND NOT EXISTS (SELECT 1 FROM claim)`,
    ),

    /** Fresh-snapshot read for a conflicting row the claim's snapshot could not see. $1 key. */
    read: named('read', `SELECT ${RECORD}, false AS claimed FROM ${t} WHERE key = $1`),

    /**
     * Completion or release, only by the lease owner and never with a lower fence. A plain UPDATE (no
     * CTE, no UNION: the cheapest write Postgres offers here) that NOTIFYs waiters only when one marked
     * the row contended; no row back means rejected, and `finishCheck` reads why. $1 key, $2 owner,
     * $3 state, $4 status, $5 headers, $6 body, $7 fence, $8 notify channel.
     */
    finish: named(
      'finish',
      `UPDATE ${t} SET state = $3, response_status = $4, response_headers = $5::json, response_body = $6::json,
        lease_expires_at = NULL, fence = GREATEST(fence, $7::bigint), updated_at = now()
      WHERE key = $1 AND lease_owner = $2::uuid AND state = 'in_progress'
        AND ($7::bigint IS NULL OR fence IS NULL OR $7::bigint >= fence)
      RETURNING date_part('epoch', expires_at - now()) * 1000 AS ttl_ms,
        CASE WHEN contended AND $8::text IS NOT NULL THEN (SELECT 1 FROM pg_notify($8::text, $1::text)) ELSE 0 END
          AS woken`,
    ),

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

    /** Deletes up to $1 expired rows; SKIP LOCKED lets many pods sweep without waiting on each other. */
    sweep: named(
      'sweep',
      `WITH doomed AS (
      SELECT key FROM ${t} WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ${t} AS r USING doomed WHERE r.key = doomed.key RETURNING 1
    )
    SELECT count(*)::integer AS deleted FROM gone`,
    ),
  };
}

export type Statements = ReturnType<typeof statements>;
