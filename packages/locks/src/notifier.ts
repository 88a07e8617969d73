import type { ScriptClient, SubscriberClient } from './client.js';
import { LockLimitError } from './errors.js';
import type { Logger } from './types.js';

/** A waiter's interest in one resource's release channel. */
export interface Watch extends Disposable {
  /** Settles once the channel is subscribed on at least one node (or after `timeoutMs`). */
  readonly ready: Promise<void>;
  /** Resolves on a release of the resource or after `ms`; rejects with `signal.reason` on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
}

interface Channel {
  refs: number;
  ready: Promise<void>;
  wakers: Set<() => void>;
  linger: NodeJS.Timeout | undefined;
}

/** Keeps a channel subscribed this long after its last waiter left, so a hot resource is not re-subscribed per hand-off. */
const LINGER_MS = 5_000;

/**
 * Wakes waiters when a lock is released. One subscriber connection per node for the whole manager,
 * one channel per waited-on resource (reference counted), at most `maxWaiters` waiting calls.
 */
export class ReleaseNotifier {
  #subscribers: SubscriberClient[] | undefined;
  readonly #channels = new Map<string, Channel>();
  #waiting = 0;

  constructor(
    private readonly clients: readonly ScriptClient[],
    private readonly maxWaiters: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger | undefined,
  ) {}

  /** Registers a waiter on release channel `name` (see `Keys.channel`). */
  watch(name: string): Watch {
    if (this.#waiting >= this.maxWaiters) throw new LockLimitError('maxWaiters', this.maxWaiters);
    this.#waiting++;
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = { refs: 0, ready: this.#subscribe(name), wakers: new Set(), linger: undefined };
      this.#channels.set(name, channel);
    }
    clearTimeout(channel.linger);
    channel.linger = undefined;
    channel.refs++;
    const ch = channel;
    let disposed = false;
    return {
      ready: ch.ready,
      wait: (ms, signal) => this.#wait(ch, ms, signal),
      [Symbol.dispose]: () => {
        if (disposed) return;
        disposed = true;
        this.#waiting--;
        if (--ch.refs > 0) return;
        // Idle channels linger briefly, but never more of them than `maxWaiters`.
        if (this.#channels.size > this.maxWaiters) return this.#drop(name, ch);
        ch.linger = setTimeout(() => this.#drop(name, ch), LINGER_MS);
        ch.linger.unref();
      },
    };
  }

  #wait(ch: Channel, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        clearTimeout(timer);
        ch.wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        clearTimeout(timer);
        ch.wakers.delete(done);
        reject(signal?.reason);
      };
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref();
      ch.wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #connect(): SubscriberClient[] {
    if (this.#subscribers) return this.#subscribers;
    this.#subscribers = this.clients.map((client) => {
      const sub = client.duplicate();
      // One release frees one lock: wake the longest-waiting caller only, not a herd that would race
      // (the others keep their jittered poll as the fallback).
      sub.on('message', (channel) => {
        const first = this.#channels.get(channel)?.wakers.values().next();
        if (first && !first.done) first.value();
      });
      sub.on('error', (err) => this.logger?.debug({ err }, 'lock release subscriber error'));
      return sub;
    });
    return this.#subscribers;
  }

  // Ready when any node confirms the subscription: a release on that node will wake us.
  #subscribe(name: string): Promise<void> {
    const subs = this.#connect().map((s) => s.subscribe(name));
    for (const p of subs) p.catch(() => {});
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.timeoutMs);
      timer.unref();
      Promise.any(subs).then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => {},
      );
    });
  }

  #drop(name: string, ch: Channel): void {
    if (ch.refs > 0 || this.#channels.get(name) !== ch) return;
    this.#channels.delete(name);
    for (const sub of this.#subscribers ?? []) sub.unsubscribe(name).catch(() => {});
  }

  close(): void {
    for (const ch of this.#channels.values()) {
      clearTimeout(ch.linger);
      for (const wake of [...ch.wakers]) wake();
    }
    this.#channels.clear();
    for (const sub of this.#subscribers ?? []) sub.disconnect();
    this.#subscribers = undefined;
  }
}
