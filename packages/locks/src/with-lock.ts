import { LockLostError } from './errors.js';
import type { HeldLock, Lock } from './lock.js';

/** Runs `fn` under `lock`, always releases; rejects with `LockLostError` if the lock was lost before `fn` finished. */
export async function runHeld<T>(lock: HeldLock, fn: (lock: Lock) => Promise<T> | T): Promise<T> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await fn(lock) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  // Not `lock.signal`: reading it would build an AbortController (and abort it on release) per call.
  const lost = lock.lost;
  await lock.release();
  if (lost instanceof LockLostError && lost.reason !== 'released') throw lost;
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
