// Joining an in-process call that is already under way, bounded by the joiner's own deadline and signal.
import type { Outcome } from './attempt.js';
import { IdempotencyInProgressError } from './errors.js';
import type { Flight } from './single-flight.js';

/** The flight's result, or `IdempotencyInProgressError` once it runs a handler past `deadline`. */
export function joinUntil(key: string, flight: Flight<Outcome>, deadline: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    flight.promise.then(resolve, reject).finally(() => clearTimeout(timer));
    flight.running.then((leaseMs) => {
      const giveUp = () => {
        const leaseLeft = Math.max(1, Math.ceil(flight.startedAt + leaseMs - Date.now()));
        reject(new IdempotencyInProgressError(key, leaseLeft));
      };
      const left = deadline - Date.now();
      if (left <= 0) return giveUp();
      timer = setTimeout(giveUp, left);
      timer.unref();
    });
  });
}

/** Settles with `promise` unless `signal` aborts first (the shared call itself keeps running). */
export function raceSignal<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
