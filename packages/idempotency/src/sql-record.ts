// The record columns and takeover rule shared by the claim, the fresh read and the takeover.
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
 * When a record may be taken over by a claim with fingerprint `fp` (version `version`), owner `owner`
 * and fence `fence`: it expired, or it is this owner's own run (a claim retried after a lost reply), or
 * it is the same request (or one hashed by another fingerprint version) with a fence not lower than the
 * recorded one, and its run failed or its lease ran out. `r` prefixes the row's columns.
 */
export function takeoverWhere(
  r: string,
  p: { fp: string; version: string; owner: string; fence: string },
): string {
  return `${r}expires_at <= now()
    OR (${r}state = 'in_progress' AND ${r}lease_owner = ${p.owner}::uuid)
    OR ((${r}fingerprint = ${p.fp}::bytea OR ${r}fingerprint_version <> ${p.version}::smallint)
        AND (${p.fence}::bigint IS NULL OR ${r}fence IS NULL OR ${p.fence}::bigint >= ${r}fence)
        AND (${r}state = 'failed' OR (${r}state = 'in_progress' AND ${r}lease_expires_at <= now())))`;
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
