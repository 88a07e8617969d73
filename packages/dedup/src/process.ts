import { anySignal, type DedupCore } from './core.js';
import { ConfigError, isLeaseLostError } from './errors/index.js';
import type { Lease } from './lease.js';
import { log } from './logger.js';
import type { ClaimOutcome } from './outcomes.js';
import type { ResultWaiters } from './waiters.js';

/** What the winner's handler is given. */
export interface HandlerContext {
  id: string;
  /** Aborts when the lease is lost (taken over, or unprovable) or the caller's `signal` aborts. */
  signal: AbortSignal;
  lease: Lease;
}

export type ProcessHandler<T> = (context: HandlerContext) => T | Promise<T>;

export interface ProcessOptions {
  /** When another consumer is processing the id, wait up to this many ms for its result. */
  waitForResult?: number;
  /** Aborts a wait for the winner; passed to the handler (combined with lease loss). */
  signal?: AbortSignal;
}

export type ProcessResult<T> =
  /** This consumer ran the handler. `completedAt` is missing if its lease was taken over meanwhile. */
  | { status: 'processed'; result: T; completedAt: number | undefined }
  /** Another consumer has it. `result` (done only) is the JSON round-trip of the winner's result. */
  | {
      status: 'duplicate';
      state: 'in-progress' | 'done';
      owner: string;
      result?: T;
      completedAt?: number;
      leaseRemainingMs?: number;
    };

export interface ProcessDeps {
  core: DedupCore;
  waiters: ResultWaiters;
  claim(id: string): Promise<ClaimOutcome>;
  track(keepAlive: { stopHeartbeat(): void }): () => void;
}

function checkWait(waitForResult: unknown): number | undefined {
  if (waitForResult === undefined) return undefined;
  // Timers overflow past 2^31 - 1 ms (about 24.8 days) and would fire at once.
  if (typeof waitForResult !== 'number' || !(waitForResult > 0 && waitForResult <= 2_147_483_647)) {
    throw new ConfigError(
      'waitForResult',
      `must be a number of ms in 1..2147483647, got ${String(waitForResult)}`,
    );
  }
  return waitForResult;
}

async function runWinner<T>(
  deps: ProcessDeps,
  lease: Lease,
  handler: ProcessHandler<T>,
  signal?: AbortSignal,
) {
  const keepAlive = lease.keepAlive();
  const untrack = deps.track(keepAlive);
  const combined = anySignal([keepAlive.signal, signal]);
  const stop = () => {
    keepAlive.stop();
    untrack();
    combined.dispose();
  };
  let result: T;
  try {
    result = await handler({ id: lease.id, signal: combined.signal, lease });
  } catch (err) {
    stop();
    await lease.release('handler-failed').catch((releaseErr) => {
      // The lease lapses on its own after leaseMs; the handler's error is what the caller needs.
      log(deps.core.options.logger, 'warn', { err: releaseErr, id: lease.id }, 'dedup release failed');
    });
    throw err;
  }
  stop();
  try {
    const { completedAt } = await lease.complete(result);
    return { status: 'processed' as const, result, completedAt };
  } catch (err) {
    // The handler did run; the message counts as processed here even though another consumer took
    // the lease over (and may run it too): that is the at-least-once edge the README documents.
    if (isLeaseLostError(err)) return { status: 'processed' as const, result, completedAt: undefined };
    throw err;
  }
}

export async function runProcess<T>(
  deps: ProcessDeps,
  id: string,
  handler: ProcessHandler<T>,
  options: ProcessOptions,
): Promise<ProcessResult<T>> {
  if (typeof handler !== 'function') throw new TypeError('process(id, handler): handler must be a function');
  const waitMs = checkWait(options.waitForResult);
  options.signal?.throwIfAborted();
  const claimed = await deps.claim(id);
  if (claimed.outcome === 'claimed') return runWinner(deps, claimed.lease, handler, options.signal);
  if (claimed.outcome === 'done') {
    const { owner, completedAt } = claimed;
    return { status: 'duplicate', state: 'done', owner, completedAt, ...resultOf<T>(claimed) };
  }
  if (waitMs === undefined) {
    const { owner, leaseRemainingMs } = claimed;
    return { status: 'duplicate', state: 'in-progress', owner, leaseRemainingMs };
  }
  const done = await deps.waiters.wait(id, claimed.owner, waitMs, options.signal);
  return {
    status: 'duplicate',
    state: 'done',
    owner: done.owner,
    completedAt: done.completedAt,
    ...resultOf<T>(done),
  };
}

function resultOf<T>(from: { result?: unknown }): { result?: T } {
  return 'result' in from ? { result: from.result as T } : {};
}
