// The multi-row forms of the claim and the completion: calls made together share one statement.
import { FINGERPRINT_VERSION } from './json.js';
import { CLAIM_COLUMNS, CLAIMED, claimValues, completion, record } from './sql-record.js';

/** What both forms need from the single-row statements' builder. */
export interface BatchSqlParts {
  /** The quoted table. */
  t: string;
  /** SQL expressions of a new lease's end and a new record's expiry, and the NOTIFY channel. */
  lease: string;
  expiry: string;
  channel: string;
}

/**
 * How long a shared statement waits for a row lock (another transaction's uncommitted insert or update
 * of one of its keys) before it gives up and its calls are sent one by one. A shared statement must not
 * wait long: the other calls in it would wait too, and if the lock belongs to a transaction in this
 * very process that is itself waiting for one of those calls, neither could ever go on.
 */
const SHARED_LOCK_TIMEOUT_MS = 50;

/** Sets the lock timeout for the rest of the statement's own transaction (evaluated before any write). */
const LOCK_TIMEOUT = `set_config('lock_timeout', '${SHARED_LOCK_TIMEOUT_MS}ms', true)`;

/** The claim's placeholders, as columns of the `input` rows (one per call). */
const INPUT = {
  fp: 'input.fp',
  version: `${FINGERPRINT_VERSION}`,
  owner: 'input.owner',
  fence: 'input.fence',
};

/**
 * Every statement takes one text[] per column (any driver can send those), unnested WITH ORDINALITY:
 * `n` (1-based) says which call a row answers. Rows are inserted and updated in key order (the sort
 * reads every input row, so the lock timeout is set before the first write), so two pods' batches that
 * share keys lock them in the same order and never deadlock each other.
 */
export function batchStatements({ t, lease, expiry, channel }: BatchSqlParts) {
  const finish = completion(
    'r.',
    {
      key: 'v.key',
      owner: 'v.owner',
      state: 'v.state',
      status: 'v.status::integer',
      headers: 'v.headers',
      body: 'v.body',
      fence: 'v.fence',
    },
    channel,
  );
  return {
    /**
     * The claim of many calls. A call gets a 'claimed' row, or the existing record's row (same columns
     * and verdicts as the single claim), or no row when its key's row was invisible to the statement's
     * snapshot (a concurrent insert, or another call of this batch): that call reads it afresh. A claim
     * is matched by its owner token, not its key, so two calls of one key never both win.
     * $1 keys, $2 fingerprints (hex), $3 owner tokens, $4 fences (null: none).
     */
    claimMany: `WITH input AS (
      SELECT i.key, decode(i.fp, 'hex') AS fp, i.owner::uuid AS owner, i.fence::bigint AS fence, i.n
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS i(key, fp, owner, fence, n)
      WHERE ${LOCK_TIMEOUT} IS NOT NULL
    ), claim AS (
      INSERT INTO ${t} (${CLAIM_COLUMNS})
      SELECT ${claimValues({ key: 'key', fp: 'fp', owner: 'owner', fence: 'fence' }, lease, expiry)}
      FROM input ORDER BY key
      ON CONFLICT (key) DO NOTHING
      RETURNING lease_owner
    )
    SELECT input.n::integer AS n, ${CLAIMED}
    FROM input JOIN claim ON claim.lease_owner = input.owner
    UNION ALL
    SELECT input.n::integer, ${record(INPUT, 'r.')}
    FROM input JOIN ${t} AS r ON r.key = input.key
    WHERE NOT EXISTS (SELECT 1 FROM claim WHERE claim.lease_owner = input.owner)`,

    /**
     * The completion (or release) of many runs, each under the same conditions as the single one (lease
     * owner, state, fence) and with the same NOTIFY. Returns `n` of each accepted row; a call without
     * one was rejected and reads why on its own. $1 keys, $2 owners, $3 states, $4 statuses, $5 headers
     * (JSON text), $6 bodies (JSON text), $7 fences.
     */
    finishMany: `UPDATE ${t} AS r SET ${finish.set}
      FROM (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
          WITH ORDINALITY AS v(key, owner, state, status, headers, body, fence, n)
        WHERE ${LOCK_TIMEOUT} IS NOT NULL
        ORDER BY key
      ) AS v
      WHERE r.key = v.key AND ${finish.accepted}
      RETURNING v.n::integer AS n`,
  };
}
