import { randomUUID } from 'node:crypto';
import type { Emitter } from '@cxkit/internal';
import type { Span } from '@opentelemetry/api';
import type { Batches, ClaimParams } from './batches.js';
import { isPoolLike, type Queryable, runStatement, withRetry } from './db.js';
import {
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyStoreUnavailableError,
  StaleFenceError,
} from './errors.js';
import type { IdempotencyEvents } from './events.js';
import { lowerFence } from './fence.js';
import { frozenRecord, type LocalCache } from './local-cache.js';
import type { ResolvedOptions } from './options.js';
import { deserializeResponse, type IdempotentResponse } from './response.js';
import { type FlightRun, runClaimed } from './run.js';
import type { RecordRow, Statement, Statements } from './sql.js';
import { ATTR_ATTEMPT, ATTR_OUTCOME } from './tracing.js';

/** What one attempt of one call needs from the store. */
export interface Core {
  db: Queryable;
  sql: Statements;
  options: ResolvedOptions;
  events: Emitter<IdempotencyEvents>;
  cache: LocalCache;
  /** Whether `db` takes pg's `{ name, text, values }` (prepared statements). */
  prepared: boolean;
  /** Claims and completions outside a caller's transaction, coalesced per turn of the event loop. */
  batches: Batches;
}

export interface HandlerContext {
  key: string;
  /** 1 for the first run of a key, 2+ when a failed or expired run is retried. */
  attempt: number;
  /** Aborts when the caller's signal aborts or this run's lease expires (it may be taken over). */
  signal: AbortSignal;
}

export type Handler<R> = (ctx: HandlerContext) => R | Promise<R>;

export interface AttemptInput {
  key: string;
  /** SHA-256 of `canonical`. */
  fingerprint: Buffer;
  /** Canonical JSON of the request (the fingerprint's input). */
  canonical: string;
  fence: string | null;
  /** The caller's PoolClient in transactional mode. */
  client: Queryable | undefined;
  signal: AbortSignal | undefined;
  /** This call's span when traced (outcome attributes are set where the outcome is decided). */
  span: Span | undefined;
}

export interface Outcome {
  replayed: boolean;
  response: IdempotentResponse;
}

/** Claims `key` in one statement and runs the handler, or answers from the existing record. */
export async function attempt(
  core: Core,
  input: AttemptInput,
  handler: Handler<unknown>,
  /** The in-process flight this call leads, told when the handler starts and when it released the key. */
  flight?: FlightRun,
): Promise<Outcome> {
  const { key, fingerprint, fence, client } = input;
  const db = client ?? core.db;
  // Transactional mode cannot retry on a broken connection: the caller's transaction is gone.
  const budget = client ? 0 : core.options.unavailableRetryMs;
  const prepared = client ? isPoolLike(client) : core.prepared;
  const token = randomUUID();
  const params: ClaimParams = [key, fingerprint, token, fence];
  const run = (operation: string, statement: Statement, values: unknown[]) =>
    withRetry(operation, budget, () => runStatement(db, statement, values, prepared), input.signal);
  // In the caller's transaction the claim is its own statement; else it may share one with other calls.
  const claim = client
    ? async () => (await runStatement(db, core.sql.claim, params, prepared)).rows[0] as RecordRow | undefined
    : () => core.batches.claim.call(params);
  for (let round = 0; round < 3; round++) {
    // The record's remaining lifetime is measured from here: the server's now() is no earlier.
    let sentAt = performance.now();
    let row: RecordRow | undefined = await withRetry('claim', budget, claim, input.signal);
    // The claim's snapshot may predate a concurrent insert it conflicted with: read it afresh.
    row ??= (await run('read', core.sql.read, params)).rows[0];
    if (!row) continue; // swept in between: claim again
    if (row.verdict === 'takeover') {
      sentAt = performance.now();
      row = (await run('claim', core.sql.takeover, params)).rows[0];
      if (!row) continue; // someone else took it over (or it was swept) first: claim again
    }
    if (row.verdict === 'claimed') {
      const attempts = row.attempts ?? 1;
      if (row.claimed_from === 'lease_expired') {
        core.options.logger?.warn(
          { key, attempt: attempts },
          'idempotency lease expired; taking the run over',
        );
        if (core.events.has('lease-expired')) core.events.emit('lease-expired', { key, attempt: attempts });
      }
      input.span?.setAttributes({ [ATTR_OUTCOME]: 'miss', [ATTR_ATTEMPT]: attempts });
      if (core.events.has('miss')) core.events.emit('miss', { key, attempt: attempts });
      // Both a claim and a takeover set the lease to inProgressTtlMs from the server's now(); a fresh
      // claim's record lives ttlSeconds from that now().
      const ttlMs = row.ms ?? core.options.ttlSeconds * 1000;
      return runClaimed(core, input, handler, token, { attempts, ttlMs, sentAt }, flight);
    }
    const outcome = classify(core, input, row, sentAt);
    if (outcome) return outcome;
  }
  throw new IdempotencyStoreUnavailableError('claim', {
    cause: new Error(`record for "${key}" kept changing`),
  });
}

/** Turns an existing record into a replay or the error the caller needs; undefined = claim again. */
function classify(core: Core, input: AttemptInput, row: RecordRow, sentAt: number): Outcome | undefined {
  const { key } = input;
  const ms = row.ms ?? 0; // an existing record's rows always carry it (remaining lifetime or lease)
  if (row.verdict === 'reused') {
    core.events.emit('mismatch', { key });
    throw new IdempotencyKeyReusedError(key);
  }
  if (row.verdict === 'completed') {
    const response = deserializeResponse(row.status ?? null, row.headers ?? null, row.body ?? null);
    if (!input.client && core.cache.enabled) {
      const bytes = (row.headers?.length ?? 0) + (row.body?.length ?? 0) + 16;
      // `ms` is as of the server's now(), no earlier than when the statement was sent: the LRU copy
      // must not outlive the row by the statement's latency.
      const left = ms - (performance.now() - sentAt);
      core.cache.set(key, frozenRecord(input, response), left, bytes + input.canonical.length);
    }
    input.span?.setAttribute(ATTR_OUTCOME, 'replay');
    if (core.events.has('replay')) core.events.emit('replay', { key, source: 'database' });
    return { replayed: true, response };
  }
  if (lowerFence(input.fence, row.fence ?? null))
    throw new StaleFenceError(key, input.fence as string, row.fence as string);
  if (row.verdict === 'in_progress' && ms > 0) {
    const retryAfterMs = Math.max(1, Math.ceil(ms));
    core.events.emit('conflict', { key, retryAfterMs });
    throw new IdempotencyInProgressError(key, retryAfterMs);
  }
  return undefined;
}
