import type { DedupSubscriber } from './client.js';
import { type DedupCore, decodeResult } from './core.js';
import {
  DedupClosedError,
  TooManyWaitersError,
  WaitTimeoutError,
  WinnerFailedError,
} from './errors/index.js';
import { inspectRecord, type RecordState } from './inspect.js';
import { log } from './logger.js';

/** What a loser receives once the winner finished. */
export interface WinnerResult {
  owner: string;
  completedAt: number;
  result?: unknown;
}

interface Waiter {
  id: string;
  owner: string;
  settle(outcome: { ok: WinnerResult } | { err: unknown }): void;
  /** Re-reads the record now (after the subscriber reconnected and may have missed a notification). */
  recheck(): void;
}

interface Notification {
  k: 'd' | 'r';
  key: string;
  o: string;
  c?: number;
  r?: string;
}

/**
 * Losers that wait for the winner's result. One subscriber connection per deduplicator (created on the
 * first wait) receives done/released notifications; each waiter also re-reads the record when the
 * winner's lease would lapse, so a dead winner or a missed message ends in an error, never a hang.
 */
export class ResultWaiters {
  readonly #waiting = new Map<string, Set<Waiter>>();
  #count = 0;
  #subscriber: DedupSubscriber | undefined;
  #subscribed: Promise<unknown> | undefined;
  #closed = false;

  constructor(private readonly core: DedupCore) {}

  async wait(id: string, owner: string, timeoutMs: number, signal?: AbortSignal) {
    if (this.#closed) throw new DedupClosedError();
    if (this.#count >= this.core.options.maxWaiters)
      throw new TooManyWaitersError(this.core.options.maxWaiters);
    signal?.throwIfAborted();
    this.core.stats.waits++;
    const key = this.core.keys.wireKey(id);
    const started = performance.now();
    return new Promise<WinnerResult>((resolve, reject) => {
      let peekTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const waiter: Waiter = { id, owner, settle: () => {}, recheck: () => {} };
      const onAbort = () => waiter.settle({ err: signal?.reason });
      const timeout = setTimeout(
        () =>
          waiter.settle({
            err: new WaitTimeoutError(id, waiter.owner, Math.round(performance.now() - started)),
          }),
        timeoutMs,
      );
      timeout.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.settle = (outcome) => {
        if (!this.#remove(key, waiter)) return;
        settled = true;
        clearTimeout(timeout);
        clearTimeout(peekTimer);
        signal?.removeEventListener('abort', onAbort);
        if ('ok' in outcome) {
          this.core.stats.waitsResolved++;
          resolve(outcome.ok);
        } else {
          if (outcome.err instanceof WaitTimeoutError) this.core.stats.waitsTimedOut++;
          if (outcome.err instanceof WinnerFailedError) this.core.stats.waitsFailed++;
          reject(outcome.err);
        }
      };
      const check = async () => {
        if (settled) return;
        try {
          const state = await inspectRecord(this.core, id);
          // A notification, timeout or abort may have settled it while the read was in flight.
          if (settled) return;
          const next = this.#judge(waiter, state);
          if (next !== undefined) {
            clearTimeout(peekTimer);
            // Another pod's remaining lease may be any length: past the largest delay a timer fires at once.
            peekTimer = setTimeout(check, Math.min(next + 25, 2_147_483_647));
            peekTimer.unref();
          }
        } catch (err) {
          waiter.settle({ err });
        }
      };
      waiter.recheck = () => {
        clearTimeout(peekTimer);
        void check();
      };
      this.#add(key, waiter);
      // Subscribe first, then read: a finish between the claim and the subscription is seen by the read.
      this.#subscribe().then(check, (err) => waiter.settle({ err }));
    });
  }

  /** Settles the waiter from a read; returns ms until the next read when the winner is still alive. */
  #judge(waiter: Waiter, state: RecordState): number | undefined {
    if (state.state === 'done') {
      const { owner, completedAt } = state;
      waiter.settle({ ok: { owner, completedAt, ...('result' in state ? { result: state.result } : {}) } });
      return undefined;
    }
    if (state.state === 'absent') {
      waiter.settle({ err: new WinnerFailedError(waiter.id, waiter.owner, 'vanished') });
      return undefined;
    }
    waiter.owner = state.owner;
    if (state.leaseRemainingMs > 0) return state.leaseRemainingMs;
    this.core.stats.leaseExpired++;
    this.core.events.emit('lease-expired', { id: waiter.id, owner: state.owner, detectedBy: 'waiter' });
    waiter.settle({ err: new WinnerFailedError(waiter.id, state.owner, 'lease-expired') });
    return undefined;
  }

  #subscribe(): Promise<unknown> {
    if (!this.#subscribed) {
      const subscriber = this.core.redis.duplicate();
      this.#subscriber = subscriber;
      let connectedBefore = false;
      subscriber.on('message', (channel, message) => {
        if (channel === this.core.keys.channel) this.#notify(message);
      });
      subscriber.on('error', (err) => {
        log(this.core.options.logger, 'warn', { err }, 'dedup subscriber connection error');
      });
      subscriber.on('ready', () => {
        // Notifications published while the subscriber was reconnecting are lost: re-read every record.
        if (connectedBefore) for (const set of this.#waiting.values()) for (const w of [...set]) w.recheck();
        connectedBefore = true;
      });
      // Subscribing while the new connection still connects fails at once on a client without an
      // offline queue (`enableOfflineQueue: false` is copied by duplicate()): wait for it to be ready.
      // A wait that outlasts the connection attempt ends by its own timeout.
      const ready =
        subscriber.status === 'ready' || !subscriber.once
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => {
              subscriber.once?.('ready', () => resolve());
              // Ended before it was ever ready (its retries gave up): the next wait starts over.
              subscriber.once?.('end', () => reject(new Error('dedup subscriber connection ended')));
              // A lazily connecting client (`lazyConnect`, copied by duplicate()) connects only when asked.
              if (subscriber.status === 'wait') subscriber.connect?.().catch(() => {});
            });
      this.#subscribed = ready
        .then(() => subscriber.subscribe(this.core.keys.channel))
        .catch((err) => {
          this.#subscribed = undefined;
          this.#subscriber = undefined;
          subscriber.disconnect();
          throw err;
        });
    }
    return this.#subscribed;
  }

  #notify(message: string): void {
    let n: Notification;
    try {
      n = JSON.parse(message) as Notification;
    } catch {
      return;
    }
    const waiters = this.#waiting.get(n.key);
    if (!waiters) return;
    for (const waiter of [...waiters]) {
      if (n.k === 'd') {
        const result = decodeResult(n.r);
        waiter.settle({
          ok: { owner: n.o, completedAt: n.c ?? 0, ...(result === undefined ? {} : { result }) },
        });
      } else {
        waiter.settle({ err: new WinnerFailedError(waiter.id, n.o, 'released') });
      }
    }
  }

  #add(key: string, waiter: Waiter): void {
    let set = this.#waiting.get(key);
    if (!set) {
      set = new Set();
      this.#waiting.set(key, set);
    }
    set.add(waiter);
    this.#count++;
  }

  #remove(key: string, waiter: Waiter): boolean {
    const set = this.#waiting.get(key);
    if (!set?.delete(waiter)) return false;
    if (set.size === 0) this.#waiting.delete(key);
    this.#count--;
    return true;
  }

  /** Rejects every pending wait with `DedupClosedError` and closes the subscriber connection. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const set of [...this.#waiting.values()]) {
      for (const waiter of [...set]) waiter.settle({ err: new DedupClosedError() });
    }
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) {
      await subscriber.quit().catch((err) => {
        log(this.core.options.logger, 'debug', { err }, 'dedup subscriber quit failed');
        subscriber.disconnect();
      });
    }
  }
}
