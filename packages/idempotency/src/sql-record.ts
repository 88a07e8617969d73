// The record columns and takeover rule shared by the claim, the fresh read and the takeover.

/**
 * What the claim and the fresh read return for an existing record. The server decides what depends on
 * its clock or on the stored fingerprint (`takeover`, `reused`, remaining times), so only that verdict,
 * the state and the response travel; JSON as text so `null` and absent stay distinct. Remaining times
 * use date_part (float8): extract() returns numeric, whose arithmetic is measurably slower.
 * `p` names the placeholders of key, fingerprint, fingerprint version, owner token and fence.
 */
export const record = (p: { fp: string; version: string; owner: string; fence: string }) =>
  `false AS claimed, (${takeoverWhere('', p)}) AS takeover,
  (fingerprint <> ${p.fp}::text AND fingerprint_version = ${p.version}::smallint) AS reused, state,
  response_status, response_headers::text AS response_headers, response_body::text AS response_body,
  fence::text AS fence, date_part('epoch', expires_at - now()) * 1000 AS ttl_ms,
  date_part('epoch', lease_expires_at - now()) * 1000 AS lease_ms`;

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
    OR ((${r}fingerprint = ${p.fp}::text OR ${r}fingerprint_version <> ${p.version}::smallint)
        AND (${p.fence}::bigint IS NULL OR ${r}fence IS NULL OR ${p.fence}::bigint >= ${r}fence)
        AND (${r}state = 'failed' OR (${r}state = 'in_progress' AND ${r}lease_expires_at <= now())))`;
}

/** Placeholders of the claim and takeover statements. */
export const CLAIM_PARAMS = { fp: '$2', version: '$3', owner: '$4', fence: '$6' };

/** A claim's answer, an existing record's (claim or fresh read) or a takeover's. */
export interface RecordRow {
  claimed: boolean;
  /** The record may be taken over (the `takeover` statement decides, under the row lock). */
  takeover?: boolean;
  /** Same key, different request (same fingerprint version). */
  reused?: boolean;
  state?: 'in_progress' | 'completed' | 'failed';
  response_status?: number | null;
  response_headers?: string | null;
  response_body?: string | null;
  fence?: string | null;
  /** Runs of the key so far, this one included (a takeover's; a fresh claim is the first). */
  attempts?: number;
  /** What a takeover took over: 'failed', 'lease_expired' or 'expired'. */
  claimed_from?: string | null;
  ttl_ms: number;
  lease_ms?: number | null;
}
