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

/** The common prefix of `diagnosticsChannels`: event `<name>` goes to `cxkit:dedup:<name>`. */
export const DIAGNOSTICS_PREFIX = 'cxkit:dedup:';

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
