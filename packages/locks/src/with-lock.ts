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
  // A quorum of nodes found another owner's record: the section may not have been exclusive. ('expired'
  // is not proof: a quorum's release repeated after a lost reply finds its own record gone.)
  if (reason === 'taken-over') throw new LockLostError(lock.resource, lock.fence, reason);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
