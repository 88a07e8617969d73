import diagnostics from 'node:diagnostics_channel';
import type { NodeRecoveringEvent } from './amnesia.js';
import type { LostReason } from './errors.js';
import type { HolderInfo, NodeOutcome, ReleaseResult } from './types.js';

interface LockRef {
  resource: string;
  token: string;
  fence: number;
}

/** Every event `LockManager.on()` accepts, with its payload. Latencies are in ms. */
export interface LockEvents {
  acquired: LockRef & { region: string; latencyMs: number; attempts: number; overridden: boolean };
  /** An attempt met a live holder (`holder`) or too few nodes; the caller waits or fails. */
  contended: { resource: string; holder: HolderInfo | undefined; latencyMs: number; attempt: number };
  extended: LockRef & { latencyMs: number; validUntil: number };
  'extend-failed': LockRef & { latencyMs: number; nodes: readonly NodeOutcome[] };
  lost: LockRef & { reason: LostReason };
  released: LockRef & ReleaseResult & { heldMs: number; latencyMs: number };
  /** A holder whose last heartbeat is older than `staleAfterMs` was found (and replaced on `nodes`). */
  stale: { resource: string; holder: HolderInfo; nodes: readonly string[] };
  /** A stale holder was overridden by a quorum: the audit record of the takeover. */
  override: LockRef & { region: string; previous: HolderInfo; nodes: readonly string[] };
  /** A node restarted without its data; its votes do not count until `trustedFrom`. */
  'node-recovering': NodeRecoveringEvent;
  /** `replicaAcks` is set but the node rejected `WAIT`. */
  'replica-acks-unsupported': { node: string; error: unknown };
}

/** An unsubscribe function that is also `Disposable` (works with `using`). */
export type Unsubscribe = (() => void) & Disposable;

type Listener<T> = (payload: T) => void;
const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/** Every event is also published on the `diagnostics_channel` named `cxkit:locks:<event>`. */
export const DIAGNOSTICS_CHANNEL_PREFIX = 'cxkit:locks:';

/**
 * Typed emitter; a throwing listener is reported to `onListenerError` and never breaks a lock
 * operation. Each event is mirrored to `node:diagnostics_channel` (`cxkit:locks:<event>`) for APMs.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #channels = new Map<keyof Events, diagnostics.Channel>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  #channel(event: keyof Events): diagnostics.Channel {
    let ch = this.#channels.get(event);
    if (!ch) {
      ch = diagnostics.channel(`${DIAGNOSTICS_CHANNEL_PREFIX}${String(event)}`);
      this.#channels.set(event, ch);
    }
    return ch;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    const off = (() => {
      set.delete(listener as Listener<never>);
    }) as Unsubscribe;
    off[disposeSymbol] = off;
    return off;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const ch = this.#channel(event);
    if (ch.hasSubscribers) ch.publish(payload);
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Whether anyone listens (here or on the diagnostics channel): hot paths skip building payloads otherwise. */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0 || this.#channel(event).hasSubscribers;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
