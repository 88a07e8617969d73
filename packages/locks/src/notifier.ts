import { randomUUID } from 'node:crypto';
import type { ScriptClient, SubscriberClient } from './client.js';
import { LockLimitError } from './errors.js';
import type { Logger } from './types.js';

/**
 * What ended a wait: this manager handed the lock to the waiter ('hand-off', see
 * `ReleaseNotifier.handOff`), a release was heard (or may have gone unheard: 'release'), or its time ran
 * out ('timeout'; also when the notifier closed).
 */
export type Wake = 'hand-off' | 'release' | 'timeout';

/** A waiter's interest in one resource's release channel. */
export interface Watch extends Disposable {
  /** Settles once the channel is subscribed on at least one node (or after `timeoutMs`). */
  readonly ready: Promise<void>;
  /**
   * Resolves on a release of the resource or after `ms`, with what ended the wait; rejects with
   * `signal.reason` on abort. With `since` (a `mark` taken before the failed attempt), resolves at once
   * ('release') if a release was heard after it: nobody waited then. With `announce`, the caller tells
   * the other managers that it waits (see `ReleaseNotifier.announce`), at once and every
   * `ANNOUNCE_EVERY_MS` while it waits, so a holder's manager keeps publishing its releases to it
   * however long its poll.
   */
  wait(ms: number, signal?: AbortSignal, since?: number, announce?: boolean): Promise<Wake>;
}

interface Channel {
  refs: number;
  /** Whether a node confirmed the subscription: from then on every release published there is heard. */
  subscribed: boolean;
  /**
   * Per node: `true` once a SUBSCRIBE is confirmed, its promise while one is in flight. A quorum's
   * release publishes on one node only, so a node that refused (its connection was not ready) is asked
   * again once it is.
   */
  nodes: (Promise<unknown> | true | undefined)[];
  /** Changes with every release message heard (see `mark`); unique across channels. */
  releases: number;
  /** Until then (monotonic ms) a waiter of another manager is known to wait: no hand-off inside this one. */
  othersUntil: number;
  /** When this manager last announced a waiter on the channel (monotonic ms). */
  announcedAt: number;
  ready: Promise<void>;
  wakers: Set<(why: Wake) => void>;
  linger: NodeJS.Timeout | undefined;
}

/**
 * A waiter that failed an attempt says so on the channel (this prefix, then its manager's id), so the
 * holder's manager stops handing the lock to its own waiters and publishes its releases instead.
 */
const WAITING = 'cxkit:waiting:';

/** How long one such message keeps hand-offs off; a manager with a waiter repeats it every half of it. */
const OTHERS_WAIT_MS = 2_000;

/** How often a waiting caller says it waits (see `announce`): twice within one message's effect. */
const ANNOUNCE_EVERY_MS = OTHERS_WAIT_MS / 2;

/**
 * Source of `Channel.releases` values, shared by all channels: a channel dropped and created again
 * never repeats a count, so a `mark` taken on the old one never matches the new one.
 */
let sequence = 0;

/** Keeps a channel subscribed this long after its last waiter left, so a hot resource is not re-subscribed per hand-off. */
const LINGER_MS = 5_000;

/**
 * Wakes waiters when a lock is released. One subscriber connection per node for the whole manager,
 * one channel per waited-on resource (reference counted), at most `maxWaiters` waiting calls.
 */
export class ReleaseNotifier {
  readonly #announcement = WAITING + randomUUID();
  #subscribers: SubscriberClient[] | undefined;
  readonly #channels = new Map<string, Channel>();
  #waiters = 0;

  constructor(
    private readonly clients: readonly ScriptClient[],
    private readonly maxWaiters: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger | undefined,
  ) {}

  /** Registers a waiter on release channel `name` (see `Keys.channel`). */
  watch(name: string): Watch {
    if (this.#waiters >= this.maxWaiters) throw new LockLimitError('maxWaiters', this.maxWaiters);
    this.#waiters++;
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = {
        refs: 0,
        subscribed: false,
        nodes: [],
        releases: ++sequence,
        othersUntil: 0,
        announcedAt: -Infinity,
        ready: Promise.resolve(),
        wakers: new Set(),
        linger: undefined,
      };
      this.#channels.set(name, channel);
    }
    this.#subscribe(name, channel);
    clearTimeout(channel.linger);
    channel.linger = undefined;
    channel.refs++;
    const ch = channel;
    let disposed = false;
    return {
      ready: ch.ready,
      wait: (ms, signal, since, announce) => this.#wait(ch, ms, signal, since, announce ? name : undefined),
      [Symbol.dispose]: () => {
        if (disposed) return;
        disposed = true;
        this.#waiters--;
        if (--ch.refs > 0) return;
        // Idle channels linger briefly, but never more of them than `maxWaiters`.
        if (this.#channels.size > this.maxWaiters) return this.#drop(name, ch);
        ch.linger = setTimeout(() => this.#drop(name, ch), LINGER_MS);
        ch.linger.unref();
      },
    };
  }

  /**
   * Wakes the longest-waiting caller on channel `name` for a release this manager is about to send:
   * its attempt is written behind the release on the same connections, so the lock changes hands in
   * one round trip and the release need not publish. False (nobody woken) when no caller waits, or
   * while a waiter of another manager waits: the release then publishes, and every waiter gets a chance.
   */
  handOff(name: string): boolean {
    const ch = this.#channels.get(name);
    // Not subscribed: another manager's waiters could not be heard, so the release publishes instead.
    if (!ch?.subscribed || performance.now() < ch.othersUntil) return false;
    const first = ch.wakers.values().next();
    if (first.done) return false;
    first.value('hand-off');
    return true;
  }

  /**
   * Where channel `name` stands in the releases it heard, or undefined while it is not subscribed.
   * Taken before an attempt, it lets the waiter skip the attempt it would make after subscribing: a
   * release between the failed attempt and the wait then shows as a change (see `Watch.wait`).
   */
  mark(name: string): number | undefined {
    const ch = this.#channels.get(name);
    return ch?.subscribed ? ch.releases : undefined;
  }

  /**
   * Whether a caller of this manager already waits on channel `name` (subscribed, no other manager's
   * waiter heard lately). With the lock held by this manager too, a new caller queues behind it without
   * an attempt of its own: the release hands the lock to the longest waiter here.
   */
  queued(name: string): boolean {
    const ch = this.#channels.get(name);
    return !!ch && ch.subscribed && ch.wakers.size > 0 && performance.now() >= ch.othersUntil;
  }

  /** Tells the other managers on channel `name` that a caller of this one waits (see `handOff`). */
  announce(name: string): void {
    const ch = this.#channels.get(name);
    const now = performance.now();
    // A little under the period: a waiter's repeat timer must not find the last one too recent.
    if (!ch || now - ch.announcedAt < ANNOUNCE_EVERY_MS - 100) return;
    ch.announcedAt = now;
    // Every node in quorum mode (any may be down, and a holder's manager hears it on whichever node it
    // is subscribed); a Cluster forwards one PUBLISH to all its nodes.
    for (const client of this.clients) client.publish(name, this.#announcement).catch(() => {});
  }

  /** Publishes `message` once: on the first node that takes it (as a release publishes on one node). */
  #publishOnce(name: string, message: string, from = 0): void {
    const client = this.clients[from];
    client?.publish(name, message).catch(() => this.#publishOnce(name, message, from + 1));
  }

  /**
   * Wakes the longest-waiting caller on channel `name` as a release would: a caller that was woken and
   * then gave up before its attempt passes its turn on, so the next one does not sleep out its poll.
   * With `release` (the message a release publishes) and no caller here to wake, it is published: a
   * hand-off's release was not, and other managers' waiters would otherwise sleep out theirs.
   */
  pass(name: string, release?: string): void {
    const ch = this.#channels.get(name);
    if (ch?.wakers.size) this.#heard(ch);
    else if (release !== undefined) this.#publishOnce(name, release);
  }

  #wait(ch: Channel, ms: number, signal?: AbortSignal, since?: number, announceOn?: string): Promise<Wake> {
    return new Promise<Wake>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (since !== undefined && since !== ch.releases) return resolve('release');
      // One timer for the repeats: the caller keeps its place among the waiters.
      let repeat: NodeJS.Timeout | undefined;
      if (announceOn !== undefined) {
        const say = () => this.announce(announceOn);
        say();
        repeat = setInterval(say, ANNOUNCE_EVERY_MS);
        repeat.unref();
      }
      const done = (why: Wake) => {
        clearTimeout(timer);
        clearInterval(repeat);
        ch.wakers.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(why);
      };
      const onAbort = () => {
        clearTimeout(timer);
        clearInterval(repeat);
        ch.wakers.delete(done);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => done('timeout'), Math.max(0, ms));
      timer.unref();
      ch.wakers.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #connect(): SubscriberClient[] {
    if (this.#subscribers) return this.#subscribers;
    this.#subscribers = this.clients.map((client, index) => {
      const sub = client.duplicate();
      // One release frees one lock: wake the longest-waiting caller only, not a herd that would race
      // (the others keep their jittered poll as the fallback).
      sub.on('message', (channel: string, message: string) => {
        const ch = this.#channels.get(channel);
        if (!ch) return;
        // A release publishes its resource name, which ends the channel's name: a resource named like
        // an announcement still reads as a release.
        if (!channel.endsWith(message) && message.startsWith(WAITING)) {
          if (message !== this.#announcement) ch.othersUntil = performance.now() + OTHERS_WAIT_MS;
          return;
        }
        this.#heard(ch);
      });
      sub.on('error', (err) => this.logger?.debug({ err }, 'lock release subscriber error'));
      // ioredis subscribes again after a reconnect, but a release published while the connection was
      // down is lost: once the new subscription is in place (the PING is answered after it), every
      // channel counts as released, so its first waiter looks again instead of waiting out its poll.
      // Channels every node refused (e.g. subscribed before this connection was up, with the offline
      // queue off) are asked again whenever a connection becomes ready.
      let connected = false;
      sub.on('ready', () => {
        // After a reconnect, subscribe again without relying on the client's own resubscription (which
        // `autoResubscribe: false` turns off): SUBSCRIBE to a subscribed channel changes nothing.
        if (connected) for (const ch of this.#channels.values()) ch.nodes[index] = undefined;
        this.#resubscribe(index);
        if (!connected) {
          connected = true;
          return;
        }
        sub
          .ping()
          .catch(() => {})
          .then(() => this.#missed());
      });
      return sub;
    });
    return this.#subscribers;
  }

  /** A release on `ch`: its mark moves and its longest-waiting caller wakes. */
  #heard(ch: Channel): void {
    ch.releases = ++sequence;
    const first = ch.wakers.values().next();
    if (!first.done) first.value('release');
  }

  /** After a subscriber reconnected: a release may have gone unheard on any channel. */
  #missed(): void {
    for (const ch of this.#channels.values()) this.#heard(ch);
  }

  /** Node `index`'s subscriber connection is ready: every channel it has not confirmed is asked again. */
  #resubscribe(index: number): void {
    for (const [name, ch] of this.#channels) this.#subscribe(name, ch, index);
  }

  // Subscribes `ch` on every node (or node `only`) where it is neither confirmed nor in flight. Until a
  // node has confirmed, a new `ready` settles when one does (a release published there will wake us),
  // when every node asked refused (waiters poll until a connection is ready), or after `timeoutMs`.
  #subscribe(name: string, ch: Channel, only?: number): void {
    let sent = false;
    this.#connect().forEach((sub, i) => {
      if ((only !== undefined && i !== only) || ch.nodes[i]) return;
      sent = true;
      const p: Promise<unknown> = sub.subscribe(name).then(
        () => {
          if (ch.nodes[i] === p) ch.nodes[i] = true;
        },
        (err: unknown) => {
          if (ch.nodes[i] === p) ch.nodes[i] = undefined;
          throw err;
        },
      );
      p.catch(() => {});
      ch.nodes[i] = p;
    });
    if (!sent || ch.subscribed) return;
    // Every SUBSCRIBE in flight counts, not only those sent now: one node refusing at once must not
    // settle `ready` while another may still confirm.
    const inFlight = ch.nodes.filter((p): p is Promise<unknown> => p instanceof Promise);
    ch.ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.timeoutMs);
      timer.unref();
      const settle = () => {
        clearTimeout(timer);
        resolve();
      };
      Promise.any(inFlight).then(() => {
        ch.subscribed = true;
        settle();
      }, settle);
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
      for (const wake of [...ch.wakers]) wake('timeout');
    }
    this.#channels.clear();
    for (const sub of this.#subscribers ?? []) sub.disconnect();
    this.#subscribers = undefined;
  }
}
