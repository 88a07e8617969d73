import type { AttemptInput, Core, Handler, Outcome } from './attempt.js';
import type { FinishParams } from './batches.js';
import { affectedRows, isPoolLike, isTransient, runStatement, withRetry } from './db.js';
import { IdempotencyLeaseLostError, StaleFenceError } from './errors.js';
import { lowerFence } from './fence.js';
import { LeaseContext } from './lease-context.js';
import { textRecord } from './local-cache.js';
import { type SerializedResponse, serializeResponse } from './response.js';
import type { CompletionCheckRow } from './sql.js';

const NOTHING: SerializedResponse = { status: null, headers: null, body: null, bytes: 0 };

/**
 * The problem document stored for a thrown error when `storeFailures` is on. Anything can be thrown
 * (null, a string, an object with odd fields): only fields JSON keeps as they are are taken, so the
 * record is always stored.
 */
function failureResponse(err: unknown): SerializedResponse {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const status = typeof e.status === 'number' && e.status >= 400 && e.status <= 599 ? e.status : 500;
  const title = typeof e.name === 'string' ? e.name : 'Error';
  const detail = typeof e.message === 'string' ? e.message : describe(err);
  const code =
    typeof e.code === 'string' || (typeof e.code === 'number' && Number.isFinite(e.code))
      ? e.code
      : undefined;
  const body = { title, status, detail, code };
  return serializeResponse(
    { status, headers: { 'content-type': 'application/problem+json' }, body },
    Infinity,
  );
}

/** String(value), or a fixed text for a value that cannot be turned into one (a null-prototype object). */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unknown error';
  }
}

/** What a successful claim (or takeover) reported. */
export interface Claim {
  /** Runs of the key so far, this one included. */
  attempts: number;
  /** The record's remaining lifetime when the claim ran. */
  ttlMs: number;
  /** performance.now() when the claim was sent: the server's now() is no earlier. */
  sentAt: number;
}

/** What the run tells the in-process flight it leads (see `Flight`). */
export interface FlightRun {
  started(leaseMs: number): void;
  released: boolean;
}

/** Runs the handler under this call's lease and stores (or releases) its outcome. */
export async function runClaimed(
  core: Core,
  input: AttemptInput,
  handler: Handler<unknown>,
  token: string,
  claim: Claim,
  flight?: FlightRun,
): Promise<Outcome> {
  // The server's lease began at its now(), no earlier than when the claim was sent: counting from the
  // reply would let the handler run on past it by the reply's latency. Monotonic (performance.now()):
  // a wall clock stepped back must not let the handler run on past the server's lease.
  const leaseDeadline = claim.sentAt + core.options.inProgressTtlMs;
  const ctx = new LeaseContext(input.key, claim.attempts, leaseDeadline, input.signal);
  const finish = (state: 'completed' | 'failed', r: SerializedResponse) =>
    finishRun(core, input, token, state, r, leaseDeadline);

  flight?.started(leaseDeadline - performance.now());
  let response: unknown;
  try {
    response = await handler(ctx);
  } catch (err) {
    ctx.done();
    const stored = core.options.storeFailures ? failureResponse(err) : NOTHING;
    await finish(core.options.storeFailures ? 'completed' : 'failed', stored).catch((e) =>
      core.options.logger?.warn(
        { err: e, key: input.key },
        'idempotency release failed; the lease will expire',
      ),
    );
    throw err;
  }
  ctx.done();
  let serialized: SerializedResponse;
  try {
    serialized = serializeResponse(response, core.options.maxResponseBytes);
  } catch (err) {
    await finish('failed', NOTHING).catch(() => undefined);
    throw err;
  }
  const final = core.options.storeFailures || serialized.status === null || serialized.status < 500;
  if (!final && flight) flight.released = true;
  const confirmed = await finish(final ? 'completed' : 'failed', final ? serialized : NOTHING);
  if (final && confirmed && !input.client && core.cache.enabled) {
    // The record's lifetime as the claim reported it, less the time since the claim was sent.
    const ttlMs = claim.ttlMs - (performance.now() - claim.sentAt);
    core.cache.set(
      input.key,
      textRecord(input, serialized),
      ttlMs,
      serialized.bytes + input.canonical.length,
    );
  }
  return { replayed: false, response: response as Outcome['response'] };
}

/**
 * Completes or releases the run, only while this call's token still owns the lease. Retries through
 * an outage or a transient error (statement or lock timeout, serialization failure, deadlock, failover)
 * until the lease would lapse (the handler already ran: losing its result means running it twice);
 * then throws `IdempotencyStoreUnavailableError`. In a caller's transaction nothing is retried: the
 * caller's transaction is what failed. Resolves true when stored by this call, false when only a retry
 * could confirm it.
 */
async function finishRun(
  core: Core,
  input: AttemptInput,
  token: string,
  state: 'completed' | 'failed',
  r: SerializedResponse,
  leaseDeadline: number,
): Promise<boolean> {
  const db = input.client ?? core.db;
  const budget = input.client
    ? 0
    : Math.max(core.options.unavailableRetryMs, leaseDeadline - performance.now());
  const prepared = input.client ? isPoolLike(input.client) : core.prepared;
  const params: FinishParams = [input.key, token, state, r.status, r.headers, r.body, input.fence];
  const operation = state === 'completed' ? 'complete' : 'release';
  const retryable = input.client ? undefined : isTransient;
  // In the caller's transaction the completion is its own statement; else it may share one.
  const affected = await withRetry(
    operation,
    budget,
    () =>
      input.client
        ? runStatement(db, core.sql.finish, params, prepared).then(affectedRows)
        : core.batches.finish.call(params),
    undefined,
    retryable,
  );
  if (affected === 1) return true;
  // Rejected (or a db that does not report counts): a fresh read says why. Rare, so the common path
  // stays one plain UPDATE.
  const check = (
    await withRetry(
      operation,
      budget,
      () => runStatement(db, core.sql.finishCheck, [input.key], prepared),
      undefined,
      retryable,
    )
  ).rows[0] as CompletionCheckRow | undefined;
  // This run's write is there: an earlier try committed but its reply was lost (or the count is
  // unknown). The row holds what this run wrote; only this call's own count confirms it.
  if (check && check.lease_owner === token && check.state === state) return false;
  if (check && lowerFence(input.fence, check.fence)) {
    throw new StaleFenceError(input.key, input.fence as string, check.fence as string);
  }
  core.options.logger?.warn({ key: input.key }, 'idempotency lease was taken over; result not stored');
  throw new IdempotencyLeaseLostError(input.key);
}
