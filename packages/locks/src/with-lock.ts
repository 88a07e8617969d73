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
  // Read before the release, which ends the lock; it also counts a lock whose validity ran out while
  // `fn` kept the event loop busy (its expiry timer had no chance to run yet).
  const lost = lock.lost;
  const { reason } = await lock.release();
  if (lost instanceof LockLostError && lost.reason !== 'released') throw lost;
  // The nodes found another owner's record, or ours expired: the section may not have been exclusive.
  if (reason === 'taken-over' || (reason === 'expired' && lock.host.expiredIsProof))
    throw new LockLostError(lock.resource, lock.fence, reason);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
