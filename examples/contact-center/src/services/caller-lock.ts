import type { LockManager } from '@cxkit/locks';
import { parseWireToken } from '../http/lock-owner.js';
import { ProblemError } from '../http/problem.js';

/**
 * Checks a lock the caller says it holds (`lock: { lock_token, fence }` in a CRM update, `fence` in a
 * checkpoint) before its fence is used for a write. A fence newer than the one the lock service issued
 * last is refused (it was never issued: a buggy or forged caller would otherwise block every real
 * holder). An older fence is passed on to the fenced write, which rejects it once a newer holder has
 * written: that is what fencing is for, a holder that paused or crashed and comes back late.
 */
export async function verifyCallerLock(
  locks: LockManager,
  resource: string,
  lock: { lock_token?: string; fence: number },
): Promise<void> {
  const { holder } = await locks.inspect(resource);
  if (!holder) {
    throw new ProblemError(
      409,
      'LOCK_NOT_HELD',
      'Lock not held',
      'the session lock has expired or was released',
      {
        session_id: resource,
      },
    );
  }
  const forged =
    lock.fence > holder.fence ||
    (lock.fence === holder.fence &&
      lock.lock_token !== undefined &&
      parseWireToken(lock.lock_token).token !== holder.token);
  if (forged) {
    throw new ProblemError(422, 'FENCE_NOT_ISSUED', 'Fence not issued for this lock', undefined, {
      session_id: resource,
      fence: lock.fence,
    });
  }
}
