import { Coalescer } from './coalesce.js';
import { affectedRows, type Queryable, runStatement } from './db.js';
import type { Logger } from './options.js';
import type { RecordRow, Statements } from './sql.js';

/** A claim's parameters: key, fingerprint, owner token, fence (null: none). */
export type ClaimParams = [key: string, fingerprint: Buffer, owner: string, fence: string | null];

/** A completion's parameters: key, owner, state, status, headers (JSON), body (JSON), fence. */
export type FinishParams = [
  key: string,
  owner: string,
  state: 'completed' | 'failed',
  status: number | null,
  headers: string | null,
  body: string | null,
  fence: string | null,
];

/** Column `j` of every call's parameters, as text (what the multi-row statements take). */
function column<T extends unknown[]>(items: T[], j: number, text: (v: T[number]) => string | null) {
  return items.map((p) => (p[j] === null ? null : text(p[j])));
}

const str = (v: unknown) => String(v);

/**
 * The claims and the completions of calls outside a caller's transaction, each coalesced per turn of the
 * event loop (`maxBatch` calls at most per statement).
 */
export function batches(
  db: Queryable,
  sql: Statements,
  prepared: boolean,
  maxBatch: number,
  logger: Logger | undefined,
) {
  const run = (statement: { name: string; text: string }, params: unknown[]) =>
    runStatement(db, statement, params, prepared);
  // A lock wait past the shared lock timeout, or a deadlock victim, is expected now and then; any other
  // failure (e.g. a driver that cannot send arrays) would cost every batch twice, so it is reported once.
  let reported = false;
  const fallback = (statement: string) => (err: unknown, calls: number) => {
    const code = (err as { code?: unknown })?.code;
    if (code === '55P03' || code === '40P01') {
      logger?.debug({ err, calls }, `idempotency shared ${statement} gave way; its calls run one by one`);
    } else if (!reported) {
      reported = true;
      logger?.warn({ err, calls }, `idempotency shared ${statement} failed; its calls run one by one`);
    }
  };
  return {
    /** The claim's row, or undefined when the key's row was invisible to its snapshot. */
    claim: new Coalescer<ClaimParams, RecordRow | undefined>(
      maxBatch,
      async (p) => (await run(sql.claim, p)).rows[0],
      async (items) => {
        const { rows } = await run(sql.claimMany, [
          column(items, 0, str),
          column(items, 1, (fp) => (fp as Buffer).toString('hex')),
          column(items, 2, str),
          column(items, 3, str),
        ]);
        const out: (RecordRow | undefined)[] = new Array(items.length).fill(undefined);
        for (const row of rows as (RecordRow & { n: number })[]) out[row.n - 1] = row;
        return out;
      },
      fallback('claim'),
    ),
    /** Rows the completion changed: 1 accepted, 0 rejected, undefined when the db does not say. */
    finish: new Coalescer<FinishParams, number | undefined>(
      maxBatch,
      async (p) => affectedRows(await run(sql.finish, p)),
      async (items) => {
        const { rows } = await run(
          sql.finishMany,
          [0, 1, 2, 3, 4, 5, 6].map((j) => column(items, j, str)),
        );
        const out: number[] = new Array(items.length).fill(0);
        for (const row of rows as { n: number }[]) out[row.n - 1] = 1;
        return out;
      },
      fallback('completion'),
    ),
  };
}

export type Batches = ReturnType<typeof batches>;
