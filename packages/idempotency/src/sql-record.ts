// The record columns, claim values and the takeover and completion rules that the single-row and the
// multi-row statements share.
import { FINGERPRINT_VERSION } from './json.js';

/**
 * What the claim and the fresh read return for an existing record. The server decides everything
 * that depends on its clock or on the stored fingerprint, so one `verdict` travels instead of the
 * columns behind it: 'takeover' (the record may be taken over), 'reused' (same key, another request),
 * else the record's state. `ms` is what remains of the lease for a run in progress, else of the
 * record. JSON as text so `null` and absent stay distinct; date_part (float8) because extract()
 * returns numeric, whose arithmetic is measurably slower. `p` names the placeholders of fingerprint,
 * fingerprint version, owner token and fence; `r` prefixes the row's columns.
 */
export const record = (p: { fp: string; version: string; owner: string; fence: string }, r = '') =>
  `CASE WHEN ${takeoverWhere(r, p)} THEN 'takeover'
    WHEN ${r}fingerprint <> ${p.fp}::bytea AND ${r}fingerprint_version = ${p.version}::smallint THEN 'reused'
    ELSE ${r}state END AS verdict,
  ${r}response_status AS status, ${r}response_headers::text AS headers, ${r}response_body::text AS body,
  ${r}fence::text AS fence,
  date_part('epoch', CASE WHEN ${r}state = 'in_progress' THEN ${r}lease_expires_at ELSE ${r}expires_at END - now()) * 1000
    AS ms`;

/**
 * A record past its `expires_at`, unless a run holds it under a live lease: claims and takeovers keep
 * `expires_at` at or past the lease end, and this also guards rows written otherwise (an earlier
 * version, a manual fix), so a running handler is never taken over or swept as expired.
 */
export const expired = (r: string) =>
  `(${r}expires_at <= now() AND NOT (${r}state = 'in_progress' AND ${r}lease_expires_at > now()))`;

/**
 * When a record may be taken over by a claim with fingerprint `fp` (version `version`), owner `owner`
 * and fence `fence`: it expired, or it is this owner's own run (a claim retried after a lost reply), or
 * it is the same request (or one hashed by another fingerprint version) with a fence not lower than the
 * recorded one, and its run failed or its lease ran out. `r` prefixes the row's columns.
 */
export function takeoverWhere(
  r: string,
  p: { fp: string; version: string; owner: string; fence: string },
): string {
  return `${expired(r)}
    OR (${r}state = 'in_progress' AND ${r}lease_owner = ${p.owner}::uuid)
    OR ((${r}fingerprint = ${p.fp}::bytea OR ${r}fingerprint_version <> ${p.version}::smallint)
        AND (${p.fence}::bigint IS NULL OR ${r}fence IS NULL OR ${p.fence}::bigint >= ${r}fence)
        AND (${r}state = 'failed' OR (${r}state = 'in_progress' AND ${r}lease_expires_at <= now())))`;
}

/** The columns a claim inserts, and their values for placeholders `p` (same order). */
export const CLAIM_COLUMNS =
  'key, fingerprint, fingerprint_version, state, lease_owner, lease_expires_at, fence, expires_at';
export const claimValues = (
  p: { key: string; fp: string; owner: string; fence: string },
  lease: string,
  expiry: string,
) =>
  `${p.key}, ${p.fp}, ${FINGERPRINT_VERSION}::smallint, 'in_progress', ${p.owner}, ${lease}, ${p.fence}, ${expiry}`;

/** A fresh claim's answer row: the verdict columns of `record`, all empty. */
export const CLAIMED = `'claimed' AS verdict, NULL::integer AS status, NULL::text AS headers, NULL::text AS body,
      NULL::text AS fence, NULL::float8 AS ms`;

/**
 * The completion (or release) rule, shared by the single and the multi-row UPDATE: what it sets, and
 * when it is accepted (only by the lease owner of a run in progress, never with a lower fence). Waiters
 * are NOTIFYed only when one marked the row contended: the CASE (whose order the planner keeps, unlike
 * a list of ANDed filters) calls pg_notify only when the owner check passes. `r` prefixes the row's
 * columns; `v` holds the value expressions (typed by the caller).
 */
export function completion(
  r: string,
  v: {
    key: string;
    owner: string;
    state: string;
    status: string;
    headers: string;
    body: string;
    fence: string;
  },
  channel: string,
): { set: string; accepted: string } {
  return {
    set: `state = ${v.state}, response_status = ${v.status}, response_headers = ${v.headers}::json,
        response_body = ${v.body}::json, lease_expires_at = NULL, fence = GREATEST(${r}fence, ${v.fence}::bigint),
        updated_at = now()`,
    accepted: `CASE
        WHEN ${r}lease_owner = ${v.owner}::uuid AND ${r}state = 'in_progress'
          AND (${v.fence}::bigint IS NULL OR ${r}fence IS NULL OR ${v.fence}::bigint >= ${r}fence)
        THEN NOT ${r}contended OR ${channel} IS NULL OR pg_notify(${channel}, ${v.key}::text) IS NOT NULL
        ELSE false END`,
  };
}

/** Placeholders of the claim, read and takeover statements (the fingerprint version is a constant). */
export const CLAIM_PARAMS = { fp: '$2', version: `${FINGERPRINT_VERSION}`, owner: '$3', fence: '$4' };

/** A claim's answer, an existing record's (claim or fresh read) or a takeover's. */
export interface RecordRow {
  /** 'claimed' when this call now holds the run; else the server's verdict on the existing record. */
  verdict: 'claimed' | 'takeover' | 'reused' | 'in_progress' | 'completed' | 'failed';
  status?: number | null;
  headers?: string | null;
  body?: string | null;
  fence?: string | null;
  /**
   * Remaining ms of the lease of a run in progress, else of the record (a takeover's included); null
   * for a fresh claim, whose record lives `ttlSeconds`.
   */
  ms: number | null;
  /** Runs of the key so far, this one included (a takeover's; a fresh claim is the first). */
  attempts?: number;
  /** What a takeover took over: 'failed', 'lease_expired' or 'expired'. */
  claimed_from?: string | null;
}
