import { setTimeout as sleep } from 'node:timers/promises';
import { LockError } from './errors.js';
import type { Lock } from './lock.js';
import type { Logger } from './types.js';

export interface ElectOptions {
  /** Called when this instance becomes leader; `lock.signal` aborts when leadership ends. */
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
  /** Stops campaigning; a leader releases leadership (and `onDemoted` runs). */
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
): Election {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let current: Lock | undefined;
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
        // A closed manager grants nothing again: the campaign ends with it.
        if (signal.aborted || (err instanceof LockError && err.code === 'LOCK_MANAGER_CLOSED')) break;
        logger?.debug({ err, name }, 'election round without leadership');
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
      try {
        await options.onElected(lock);
      } catch (err) {
        logger?.error({ err, name }, 'onElected threw');
      }
      // Lead until the lock is lost (or released by a stop).
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
    }
  })();
  const election: Election = {
    name,
    get isLeader() {
      return current !== undefined && !current.signal.aborted;
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
  return election;
}
