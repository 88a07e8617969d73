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
  /** A holder whose last heartbeat is older than `staleAfterMs` and its own `staleAfterMs` was found (and replaced on `nodes`). */
  stale: { resource: string; holder: HolderInfo; nodes: readonly string[] };
  /** A stale holder was overridden by a quorum: the audit record of the takeover. */
  override: LockRef & { region: string; previous: HolderInfo; nodes: readonly string[] };
  /** A node restarted without its data; its votes do not count until `trustedFrom`. */
  'node-recovering': NodeRecoveringEvent;
  /** `replicaAcks` is set but the node rejected `WAIT`. */
  'replica-acks-unsupported': { node: string; error: unknown };
  /** The node's `maxmemory-policy` is not `noeviction`: Redis may drop a live lock to free memory. */
  'eviction-policy': { node: string; policy: string };
}

/** The names `LockManager.on()` accepts (checked at run time: a misspelt name would never fire). */
export const EVENT_NAMES: ReadonlySet<string> = new Set<keyof LockEvents>([
  'acquired',
  'contended',
  'extended',
  'extend-failed',
  'lost',
  'released',
  'stale',
  'override',
  'node-recovering',
  'replica-acks-unsupported',
  'eviction-policy',
]);

/** An unsubscribe function that is also `Disposable` (works with `using`). */
export type Unsubscribe = (() => void) & Disposable;

/** Every event is also published on the `diagnostics_channel` named `cxkit:locks:<event>`. */
export const DIAGNOSTICS_CHANNEL_PREFIX = 'cxkit:locks:';
