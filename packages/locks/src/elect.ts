import { setTimeout as sleep } from 'node:timers/promises';
import { LockError } from './errors.js';
import type { Lock } from './lock.js';
import type { Logger } from './types.js';

export interface ElectOptions {
  /**
   * Called when this instance becomes leader; `lock.signal` aborts when leadership ends. Leadership
   * lasts until then, not until this returns; if it throws, leadership is given up.
   */
  onElected(lock: Lock): void | Promise<void>;
  /** Called once leadership ended (lost, `stop()`, or `close()`), with the reason (a `LockLostError`). */
  onDemoted?(reason: unknown): void | Promise<void>;
  /** Stops campaigning (like `stop()`). */
  signal?: AbortSignal;
  /** TTL of the leadership lock. @default defaultTtlMs */
  ttlMs?: number;
  /** Recorded as the lock's operation. @default 'LEADER' */
  operation?: string;
  /** Recorded as the lock's correlation id (e.g. pod name). @default '' */
  correlationId?: string;
}

/** A running campaign for leadership of one name. */
export interface Election extends AsyncDisposable {
  readonly name: string;
  /** True while this instance holds leadership. */
  readonly isLeader: boolean;
  /** The leadership lock while leader. */
  readonly lock: Lock | undefined;
  /** Stops campaigning; a leader releases leadership and `onDemoted` runs (an `onElected` still running is not awaited). */
  stop(): Promise<void>;
}

type AcquireFn = (resource: string, options: Record<string, unknown>) => Promise<Lock>;

/**
 * Leader election on the lock `elect:<name>`: campaign (wait for the lock), lead while the lock holds
 * (heartbeated, no max hold), demote through the lock's signal, then campaign again until stopped.
 */
export function campaign(
  name: string,
  options: ElectOptions,
  acquire: AcquireFn,
  retryMs: number,
  logger?: Logger,
  /** The release of a grant the manager gave back because the campaign's signal aborted while it was in flight. */
  givenBack?: (signal: AbortSignal) => Promise<void> | undefined,
): { election: Election; ended: Promise<void> } {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let current: Lock | undefined;
  const stopped = new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const loop = (async () => {
    while (!signal.aborted) {
      let lock: Lock;
      try {
        lock = await acquire(`elect:${name}`, {
          waitMs: 60_000,
          signal,
          maxHoldMs: Infinity,
          operation: options.operation ?? 'LEADER',
          correlationId: options.correlationId ?? '',
          ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
        });
      } catch (err) {
        // Stopped while this round was in flight: a grant is given back by the manager, and stop()
        // resolves once that release is done. A closed manager grants nothing again: the campaign ends.
        if (signal.aborted) {
          await givenBack?.(signal);
          break;
        }
        if (err instanceof LockError && err.code === 'LOCK_MANAGER_CLOSED') break;
        // Another leader is the normal outcome; anything else (no quorum, a limit, a server error) may
        // keep this instance from ever leading, so it is a warning.
        const normal =
          err instanceof LockError && (err.code === 'LOCK_CONFLICT' || err.code === 'LOCK_ACQUIRE_TIMEOUT');
        if (normal) logger?.debug({ err, name }, 'election round without leadership');
        else logger?.warn({ err, name }, 'election round failed');
        await sleep(retryMs * (0.5 + Math.random()), undefined, { signal }).catch(() => {});
        continue;
      }
      // Stopped while this round was in flight: give the grant back instead of starting a term.
      if (signal.aborted) {
        await lock.release();
        break;
      }
      current = lock;
      // Stopping ends the term at once: the release aborts `lock.signal`, so an `onElected` that leads
      // until that signal aborts returns. Removed after the term: the campaign's signal outlives it.
      let released: Promise<unknown> | undefined;
      const release = () => (released ??= lock.release());
      signal.addEventListener('abort', release, { once: true });
      // A leader whose set-up failed gives leadership up (another instance may lead) and waits before
      // it campaigns again.
      let failed = false;
      const elected = (async () => {
        try {
          await options.onElected(lock);
        } catch (err) {
          // Rejecting with the abort reason once demoted is how signal-aware code ends a term.
          if (lock.signal.aborted) return;
          failed = true;
          logger?.error({ err, name }, 'onElected threw: leadership given up');
          release();
        }
      })();
      // Lead until the lock is lost (or released by a stop or a failed onElected), whether or not
      // onElected has returned: demotion does not wait for it.
      await new Promise<void>((resolve) => {
        if (lock.signal.aborted) return resolve();
        lock.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      signal.removeEventListener('abort', release);
      current = undefined;
      // Demoted now, not after the release: a release that waits for a silent node would keep this
      // instance acting as leader for up to requestTimeoutMs past the end of its lock's validity.
      release();
      try {
        await options.onDemoted?.(lock.signal.reason);
      } catch (err) {
        logger?.error({ err, name }, 'onDemoted threw');
      }
      await released;
      // A next term starts only once this onElected returned, so two never run at once; stopping does
      // not wait for one that ignores the signal.
      await Promise.race([elected, stopped]);
      if (signal.aborted) break;
      if (failed) await sleep(retryMs * (0.5 + Math.random()), undefined, { signal }).catch(() => {});
    }
  })();
  const election: Election = {
    name,
    get isLeader() {
      // Also past the lock's validity when a busy event loop kept its signal from aborting yet.
      return current !== undefined && !current.signal.aborted && current.validUntil > Date.now();
    },
    get lock() {
      return current;
    },
    stop: async () => {
      stop.abort();
      await loop;
    },
    [Symbol.asyncDispose]: () => election.stop(),
  };
  return { election, ended: loop };
}
