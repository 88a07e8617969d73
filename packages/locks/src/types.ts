/** Owner metadata stored with every lock (seed 001: region, operation, correlation id, heartbeat). */
export interface HolderInfo {
  token: string;
  region: string;
  operation: string;
  correlationId: string;
  /** Server time (ms since epoch) of the acquisition on that node. */
  acquiredAt: number;
  /** Server time (ms since epoch) of the last heartbeat on that node. */
  lastHeartbeat: number;
  fence: number;
  /** Age of the last heartbeat when it was read, by that node's clock. */
  heartbeatAgeMs: number;
  /** Remaining TTL of the record on that node. */
  ttlLeftMs: number;
  /**
   * The holder's own `staleAfterMs` (a semaphore permit: its validity). A contender overrides it only
   * when its heartbeat is older than this and than the contender's own `staleAfterMs`.
   */
  staleAfterMs: number;
}

/** What one node did in one round. Only `granted` / `overridden` / `extended` count as votes. */
export type Outcome =
  | 'granted'
  | 'overridden'
  | 'extended'
  | 'reclaimed'
  | 'released'
  | 'absent'
  | 'conflict'
  | 'recovering'
  | 'pending'
  | 'not-asked'
  | 'timeout'
  | 'error'
  | 'replica-acks'
  | 'replica-acks-unsupported';

export interface NodeOutcome {
  /** Node label: `host:port`, or `cluster`. */
  node: string;
  outcome: Outcome;
  holder?: HolderInfo;
  error?: unknown;
}

/** One node's view of a resource, from `inspect()`. */
export interface NodeView {
  node: string;
  reachable: boolean;
  holder: HolderInfo | undefined;
  /** `false` while the amnesia guard ignores this node's votes (it restarted without data). */
  trusted: boolean;
  /** Local time (ms since epoch) from which the node counts again, when it is not trusted. */
  trustedFrom: number | undefined;
  /** Random id of the node's data generation; changes when the node restarts empty. */
  epoch: string | undefined;
  error?: unknown;
}

/** Result of `inspect()`: per-node views plus the holder a quorum agrees on, if any. */
export interface Inspection {
  resource: string;
  nodes: NodeView[];
  /** The holder that a quorum of trusted nodes report, or `undefined`. */
  holder: HolderInfo | undefined;
}

/** `release()` never throws: it says whether this owner's record was removed and why not. */
export interface ReleaseResult {
  released: boolean;
  reason?: 'expired' | 'taken-over' | 'unreachable' | 'already-released';
}

export interface AcquireOptions {
  /** Time-to-live, at most `maxTtlMs`. @default defaultTtlMs */
  ttlMs?: number;
  /** Recorded with the lock (e.g. `CRM_UPDATE`). @default '' */
  operation?: string;
  /** Recorded with the lock (e.g. the request id). @default '' */
  correlationId?: string;
  /** Aborts a wait; an already acquired lock is unaffected. */
  signal?: AbortSignal;
  /** How long to wait for a held lock (woken by pub/sub on release). 0: one attempt. @default 0 */
  waitMs?: number;
  /** Extend the lock on every heartbeat until released. @default true */
  heartbeat?: boolean;
  /** Longest total hold time of this lock; `Infinity` for none. @default maxHoldMs */
  maxHoldMs?: number;
}

/** pino-compatible logger subset. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
