import { randomUUID } from 'node:crypto';
import type { Attempt } from './acquire.js';
import type { ResolvedAcquire } from './acquire-options.js';
import type { LockContext } from './context.js';
import { AcquireTimeoutError, managerClosed } from './errors.js';
import type { ReleaseNotifier, Wake, Watch } from './notifier.js';

/**
 * What a kind of lock (mutex, semaphore permit) plugs into the loop; one object per manager or semaphore,
 * so an acquisition allocates no callbacks of its own. `S` is passed through to `granted` (a span).
 */
export interface LoopDriver<T, S = undefined> {
  readonly notifier: ReleaseNotifier;
  closed(): boolean;
  /** Release channel that wakes a waiter for `resource`. */
  channel(resource: string): string;
  /**
   * Whether this manager itself holds `resource` now (a live lock): its release then hands the lock to
   * the longest waiter here, so a new caller may queue behind those without an attempt of its own.
   */
  heldHere(resource: string): boolean;
  /** Whether a waiter announces itself on the channel after each failed attempt (see `ReleaseNotifier.handOff`). */
  readonly announce: boolean;
  attempt(resource: string, token: string, a: ResolvedAcquire): Promise<Attempt>;
  granted(
    resource: string,
    token: string,
    a: ResolvedAcquire,
    result: Extract<Attempt, { ok: true }>,
    attempts: number,
    started: number,
    extra: S,
  ): T;
}

/**
 * Wait after a failed attempt that a hand-off woke: that release was just written, and may have reached
 * the node after the attempt (a script loaded again after a restart), so look again soon.
 */
const AFTER_HAND_OFF_MS = 5;

function delay(ctx: LockContext, attempt: number): number {
  const { minDelayMs, maxDelayMs } = ctx.options.retry;
  const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 16));
  return base / 2 + Math.random() * (base / 2);
}

/** Resolves with `ready`, or once `ms` have passed; rejects with the signal's reason on abort. */
function until(ready: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    ready.then(() => {
      done();
      resolve();
    });
  });
}

/**
 * Attempts until granted; with `waitMs`, waits between attempts for a release message on `channel` or a
 * jittered delay, bounded by `waitMs`, `retry.retries` and the caller's signal. A release between a
 * failed attempt and the wait is not missed: the wait returns at once if one was heard since the
 * attempt was sent, and a waiter that was not yet subscribed then attempts once more after subscribing.
 */
export async function acquireLoop<T, S>(
  ctx: LockContext,
  driver: LoopDriver<T, S>,
  resource: string,
  a: ResolvedAcquire,
  extra: S,
): Promise<T> {
  a.signal?.throwIfAborted();
  const started = performance.now();
  const deadline = started + a.waitMs;
  let watch: Watch | undefined;
  let subscribed = false;
  /** What ended the wait before this attempt (undefined before the first wait). */
  let woken: Wake | undefined;
  const channel = driver.channel(resource);
  try {
    // This manager holds the lock and callers of its own wait for it: queue behind them rather than
    // fail an attempt (the release hands the lock to the longest waiter here).
    if (a.waitMs > 0 && driver.heldHere(resource) && driver.notifier.queued(channel)) {
      const mark = driver.notifier.mark(channel);
      watch = driver.notifier.watch(channel);
      subscribed = true;
      woken = await watch.wait(Math.min(a.waitMs, delay(ctx, 1)), a.signal, mark);
    }
    for (let attempt = 1; ; attempt++) {
      const wake = woken;
      woken = undefined;
      // A caller that gave up, or a manager closed, while this caller waited (queued behind others, too)
      // makes no further attempt. One that gave up after a release woke it passes the wake-up on: a
      // heard release woke this caller alone, and a hand-off's release was not published at all.
      if (a.signal?.aborted) {
        if (wake === 'release') driver.notifier.pass(channel);
        else if (wake === 'hand-off') driver.notifier.pass(channel, resource);
        throw a.signal.reason;
      }
      if (driver.closed()) throw managerClosed(resource);
      // A fresh token per attempt: a late cleanup of a failed attempt can never delete a later grant.
      const token = randomUUID();
      // Releases heard so far, if this manager already listens on the channel (e.g. another waiter).
      const mark = driver.notifier.mark(channel);
      const result = await driver.attempt(resource, token, a);
      if (result.ok) return driver.granted(resource, token, a, result, attempt, started, extra);
      if (ctx.events.has('contended')) {
        const latencyMs = performance.now() - started;
        ctx.events.emit('contended', { resource, holder: result.holder, latencyMs, attempt });
      }
      if (a.waitMs === 0) throw result.error();
      if (driver.closed()) throw managerClosed(resource);
      const left = deadline - performance.now();
      if (left <= 0 || attempt > ctx.options.retry.retries) {
        throw new AcquireTimeoutError(resource, a.waitMs, attempt, result.error());
      }
      watch ??= driver.notifier.watch(channel);
      if (!subscribed) {
        subscribed = true;
        if (mark === undefined) {
          await until(watch.ready, left, a.signal);
          continue;
        }
      }
      const ms = wake === 'hand-off' ? AFTER_HAND_OFF_MS : delay(ctx, attempt);
      woken = await watch.wait(Math.min(left, ms), a.signal, mark, driver.announce);
    }
  } finally {
    watch?.[Symbol.dispose]();
  }
}
