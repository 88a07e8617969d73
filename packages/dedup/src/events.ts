import diagnostics from 'node:diagnostics_channel';
import { type DedupLogger, log } from './logger.js';

/**
 * `node:diagnostics_channel` names: every event is also published there (when someone subscribes),
 * so APM agents can observe all deduplicators in a process without a reference to any of them.
 */
export const diagnosticsChannels = Object.freeze({
  claimed: 'cxkit:dedup:claimed',
  duplicate: 'cxkit:dedup:duplicate',
  done: 'cxkit:dedup:done',
  released: 'cxkit:dedup:released',
  'lease-expired': 'cxkit:dedup:lease-expired',
});

/** Payloads of the deduplicator's typed events. */
export interface DedupEvents {
  /** This instance won a claim; `previousOwner` is set when it took over a lapsed lease. */
  claimed: { id: string; owner: string; previousOwner?: string };
  /** A claim found the message already in progress or done elsewhere (or here). */
  duplicate: { id: string; state: 'in-progress' | 'done'; owner: string };
  /** A handler's success was recorded as a done marker. */
  done: { id: string; owner: string; completedAt: number; resultBytes: number };
  /** A claim was given back so the message can be processed again. */
  released: { id: string; owner: string; reason: 'handler-failed' | 'result-too-large' | 'explicit' };
  /**
   * A lease lapsed: seen by the claimer that took it over (`detectedBy: 'takeover'`, `owner` = the dead
   * winner), by a winner whose heartbeat or completion found it gone, or by a waiting loser.
   */
  'lease-expired': {
    id: string;
    owner: string;
    detectedBy: 'takeover' | 'heartbeat' | 'complete' | 'release' | 'waiter';
  };
}

export type DedupEventName = keyof DedupEvents;

/** Returned by `on()`: call `dispose()` (or use `using`) to unsubscribe. */
export interface Subscription extends Disposable {
  dispose(): void;
}

/** Minimal typed emitter; a throwing listener is logged and never changes an outcome. */
export class TypedEvents<E extends object> {
  readonly #listeners = new Map<keyof E, Set<(payload: never) => void>>();
  readonly #channels: Partial<Record<keyof E, diagnostics.Channel>>;

  constructor(
    private readonly logger: DedupLogger | undefined,
    channels: Partial<Record<keyof E, string>> = {},
  ) {
    this.#channels = Object.fromEntries(
      Object.entries(channels).map(([event, name]) => [event, diagnostics.channel(name as string)]),
    ) as Partial<Record<keyof E, diagnostics.Channel>>;
  }

  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): Subscription {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    const dispose = () => {
      set.delete(listener as (payload: never) => void);
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /** Whether anyone listens (here or on the diagnostics channel): hot paths skip building payloads. */
  wants(event: keyof E): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0 || this.#channels[event]?.hasSubscribers === true;
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const channel = this.#channels[event];
    if (channel?.hasSubscribers) channel.publish(payload);
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as (payload: E[K]) => void)(payload);
      } catch (err) {
        log(this.logger, 'error', { err, event }, 'dedup event listener threw');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
