import type { Lock } from '@cxkit/locks';
import { ProblemError } from '../http/problem.js';

interface Held {
  lock: Lock;
  /** Wall-clock deadline the caller asked for (`lock_ttl_ms` from acquire or the last heartbeat). */
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Locks this region granted over HTTP, by token. The lock manager heartbeats each of them while this
 * process lives (so a crashed region's locks turn stale and can be overridden); the caller's
 * `lock_ttl_ms` is enforced here: without a `/heartbeat` from the caller the lock is released at its
 * deadline. Bounded: past `max` held locks, acquire answers 503.
 */
export class HeldLocks {
  readonly #held = new Map<string, Held>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.#held.size;
  }

  assertCapacity(): void {
    if (this.#held.size >= this.max) {
      throw new ProblemError(503, 'LOCK_LIMIT', 'Too many locks held by this region', `limit ${this.max}`);
    }
  }

  add(lock: Lock, ttlMs: number): number {
    const expiresAt = Date.now() + ttlMs;
    const held: Held = { lock, expiresAt, timer: this.#expireAt(lock.token, ttlMs) };
    this.#held.set(lock.token, held);
    // Lost (overridden, quorum gone, max hold reached): forget it so the caller gets 409 next time.
    lock.signal.addEventListener('abort', () => this.#drop(lock.token), { once: true });
    return expiresAt;
  }

  /** Pushes the caller's deadline; the lock manager keeps the Redis record alive meanwhile. */
  heartbeat(resource: string, token: string, ttlMs: number | undefined): { lock: Lock; expiresAt: number } {
    const held = this.#get(resource, token);
    if (ttlMs !== undefined) {
      clearTimeout(held.timer);
      held.expiresAt = Date.now() + ttlMs;
      held.timer = this.#expireAt(token, ttlMs);
    }
    return { lock: held.lock, expiresAt: held.expiresAt };
  }

  async release(resource: string, token: string): Promise<{ released: boolean; reason?: string }> {
    const held = this.#get(resource, token);
    this.#drop(token);
    return held.lock.release();
  }

  /** Releases everything (graceful shutdown): other regions get the locks at once instead of after staleness. */
  async releaseAll(): Promise<void> {
    const all = [...this.#held.values()];
    for (const h of all) this.#drop(h.lock.token);
    await Promise.allSettled(all.map((h) => h.lock.release()));
  }

  #get(resource: string, token: string): Held {
    const held = this.#held.get(token);
    if (!held || held.lock.resource !== resource || held.lock.signal.aborted) {
      throw new ProblemError(
        409,
        'LOCK_NOT_HELD',
        'Lock not held',
        'this region holds no live lock with that token for that resource (expired, released, overridden, or granted by another region)',
        { resource_id: resource },
      );
    }
    return held;
  }

  #expireAt(token: string, ttlMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const held = this.#held.get(token);
      if (!held) return;
      this.#drop(token);
      void held.lock.release().catch(() => {});
    }, ttlMs);
    timer.unref();
    return timer;
  }

  #drop(token: string): void {
    const held = this.#held.get(token);
    if (!held) return;
    clearTimeout(held.timer);
    this.#held.delete(token);
  }
}
