import { jsonProblem } from '@cxkit/internal';
import type { DedupCore } from './core.js';
import { inProgressTtlMs } from './core.js';
import { LeaseLostError, ResultTooLargeError } from './errors/index.js';
import { log } from './logger.js';
import { runScript } from './scripts.js';

export type LeaseState = 'held' | 'completed' | 'released' | 'lost';

interface LeaseInit {
  expiresAt: number;
  serverNow: number;
  sentAt: number;
  previousOwner: string | undefined;
}

/**
 * A won claim: the right to process one message until `expiresAt` (Redis server time). Extend it while
 * working, then `complete()` (done marker for the window) or `release()` (let someone else process it).
 */
export class Lease {
  readonly owner: string;
  /** Set when this claim took over a lapsed lease of that owner (it died or stalled mid-handler). */
  readonly previousOwner: string | undefined;
  #expiresAt: number;
  #state: LeaseState = 'held';
  /** Server time of this lease's own completion, once completed. */
  #completedAt: number | undefined;
  /** Local monotonic time at which the lease was last proven (request send time of a successful write). */
  #provenAt: number;
  #leaseMs: number;

  constructor(
    private readonly core: DedupCore,
    readonly id: string,
    /** Owner token: only the holder of this token can extend, complete or release the claim. */
    readonly token: string,
    init: LeaseInit,
  ) {
    this.owner = core.options.owner;
    this.previousOwner = init.previousOwner;
    this.#expiresAt = init.expiresAt;
    this.#provenAt = init.sentAt;
    this.#leaseMs = init.expiresAt - init.serverNow;
  }

  /** Lease expiry in Redis server time (ms since epoch). */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  get state(): LeaseState {
    return this.#state;
  }

  /** Whether the lease is still provably valid by the local clock (conservative: counts from send time). */
  get valid(): boolean {
    return this.#state === 'held' && performance.now() - this.#provenAt < this.#leaseMs;
  }

  /** Extends the lease by `leaseMs` from now (server time). Resolves false once the lease is not ours. */
  async extend(): Promise<boolean> {
    if (this.#state !== 'held') return false;
    const { redis, keys, options } = this.core;
    const sentAt = performance.now();
    const reply = await runScript(redis, 'heartbeat', keys.key(this.id), [
      this.token,
      options.leaseMs,
      inProgressTtlMs(options.leaseMs),
    ]);
    if (typeof reply === 'number' && reply > 0) {
      this.#expiresAt = reply;
      this.#provenAt = sentAt;
      this.#leaseMs = options.leaseMs;
      return true;
    }
    this.#lost('heartbeat');
    return false;
  }

  /**
   * Writes the done marker (with `result` if given and it fits `maxResultBytes`) kept for `windowMs`, and
   * wakes waiting losers. A result that does not fit is refused before any write: the claim is released
   * and `ResultTooLargeError` thrown. Throws `LeaseLostError` if another claimer took the message over.
   */
  async complete(result?: unknown): Promise<{ completedAt: number }> {
    // Completed already (by the handler itself): the marker stands, nothing is written or counted twice.
    if (this.#state === 'completed') return { completedAt: this.#completedAt! };
    // Given back: another consumer may be running the message, and a done marker would stop every retry.
    if (this.#state === 'released') throw new LeaseLostError(this.id, undefined);
    const { redis, keys, options } = this.core;
    // Refused rather than stored changed: a Map, NaN or a function would reach the losers as {}, null
    // or nothing, so they would see a different result than the winner returned.
    const problem = result === undefined ? undefined : jsonProblem(result);
    if (problem) {
      await this.release('result-too-large');
      const where = problem.path ? `result.${problem.path}` : 'result';
      throw new ResultTooLargeError(this.id, Number.NaN, options.maxResultBytes, {
        cause: new TypeError(`${where}: ${problem.reason}`),
      });
    }
    const json = result === undefined ? undefined : JSON.stringify(result);
    const bytes = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
    if (bytes > options.maxResultBytes) {
      await this.release('result-too-large');
      throw new ResultTooLargeError(this.id, bytes, options.maxResultBytes);
    }
    const reply = (await runScript(redis, 'complete', keys.key(this.id), [
      this.token,
      this.owner,
      options.windowMs,
      json ?? '',
      json === undefined ? '0' : '1',
      keys.channel,
    ])) as [number, unknown, unknown];
    if (reply[0] !== 1) {
      this.#lost('complete');
      throw new LeaseLostError(this.id, typeof reply[2] === 'string' ? reply[2] : undefined);
    }
    const completedAt = reply[1] as number;
    this.#state = 'completed';
    this.#completedAt = completedAt;
    this.core.stats.done++;
    this.core.events.emit('done', { id: this.id, owner: this.owner, completedAt, resultBytes: bytes });
    return { completedAt };
  }

  /** Gives the claim back (compare-and-delete on the token). Resolves false if it was no longer ours. */
  async release(reason: 'handler-failed' | 'result-too-large' | 'explicit' = 'explicit'): Promise<boolean> {
    if (this.#state === 'completed' || this.#state === 'released') return false;
    const { redis, keys } = this.core;
    const reply = await runScript(redis, 'release', keys.key(this.id), [
      this.token,
      keys.channel,
      this.owner,
    ]);
    if (reply !== 1) {
      this.#lost('release');
      return false;
    }
    this.#state = 'released';
    this.core.stats.released++;
    this.core.events.emit('released', { id: this.id, owner: this.owner, reason });
    return true;
  }

  /**
   * Extends the lease every `heartbeatIntervalMs` until `stop()`. `signal` aborts with `LeaseLostError`
   * when the lease is taken over, or when no heartbeat has landed before the lease would lapse (Redis
   * paused or unreachable, a heartbeat hanging): validity is proven only by a successful write.
   */
  keepAlive(): { signal: AbortSignal; stop(): void; stopHeartbeat(): void } {
    const controller = new AbortController();
    let beat: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let stopped = false;
    const finish = (reason?: unknown) => {
      stopped = true;
      clearTimeout(beat);
      clearTimeout(deadline);
      if (reason !== undefined && !controller.signal.aborted) controller.abort(reason);
    };
    const armDeadline = () => {
      clearTimeout(deadline);
      const remaining = Math.max(0, this.#provenAt + this.#leaseMs - performance.now());
      deadline = setTimeout(() => {
        log(this.core.options.logger, 'warn', { id: this.id }, 'dedup lease can no longer be proven');
        finish(new LeaseLostError(this.id, undefined));
      }, remaining);
      deadline.unref();
    };
    const tick = async () => {
      try {
        if (!(await this.extend())) {
          finish(this.#state === 'lost' ? new LeaseLostError(this.id, undefined) : undefined);
          return;
        }
        if (!stopped) armDeadline();
      } catch (err) {
        this.core.stats.heartbeatErrors++;
        log(this.core.options.logger, 'warn', { err, id: this.id }, 'dedup heartbeat failed');
      }
      if (!stopped) schedule();
    };
    const schedule = () => {
      beat = setTimeout(tick, this.core.options.heartbeatIntervalMs);
      beat.unref();
    };
    armDeadline();
    schedule();
    return {
      signal: controller.signal,
      stop: () => finish(),
      // No more extensions, but the signal still aborts once the lease can no longer be proven: a
      // handler running on after close() learns when another consumer may take its message over.
      stopHeartbeat: () => {
        stopped = true;
        clearTimeout(beat);
      },
    };
  }

  #lost(detectedBy: 'heartbeat' | 'complete' | 'release'): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.core.stats.leaseExpired++;
    this.core.events.emit('lease-expired', { id: this.id, owner: this.owner, detectedBy });
    log(
      this.core.options.logger,
      'warn',
      { id: this.id, detectedBy },
      'dedup lease lost; another consumer may process this message',
    );
  }
}
