import type { Emitter } from '@cxkit/internal';
import { AmnesiaGuard } from './amnesia.js';
import type { BatchItem } from './batch.js';
import { labelOf, type ScriptClient, type Topology, topologyOf } from './client.js';
import type { LockEvents } from './events.js';
import { NodeHealth } from './health.js';
import { Keys } from './keys.js';
import { LockNode } from './node.js';
import { NodeTimeoutError, ReplicaAcksError, WaitUnsupportedError } from './node-errors.js';
import type { ResolvedOptions } from './options.js';
import type { Reply } from './round.js';
import type { Outcome } from './types.js';
import { driftOf, effectiveTtlOf } from './validity.js';

/** How long a node that failed or lagged is left out of first waves. */
const SUSPECT_MS = 1_000;

/** Everything the operations share inside one manager. */
export interface LockContext {
  readonly nodes: readonly LockNode[];
  readonly quorum: number;
  readonly topology: Topology;
  readonly keys: Keys;
  readonly guard: AmnesiaGuard;
  /** Reply times and recent failures per node: picks the first wave of an acquisition. */
  readonly health: NodeHealth;
  readonly options: ResolvedOptions;
  readonly events: Emitter<LockEvents>;
  /** Nodes already reported as rejecting `WAIT` (reported once each). */
  readonly waitUnsupported: Set<number>;
  /** Keeps a fire-and-forget call (e.g. cleanup after a lost round) so `close()` can wait for it. */
  track(work: Promise<unknown>): void;
  /** The KEYS/ARGV every acquire call of `resource` starts with (one shared object outside a Cluster). */
  acquireHead(resource: string): BatchItem['head'];
  /** The ARGV every release call starts with: whether to publish inside the script, the record retention. */
  readonly releaseHead: BatchItem['head'];
}

/** Outcome name of a failed node call; reports a server that rejects `WAIT` once. */
export function failureOutcome(ctx: LockContext, index: number, error: unknown): Outcome {
  if (error instanceof NodeTimeoutError) return 'timeout';
  if (error instanceof ReplicaAcksError) return 'replica-acks';
  if (error instanceof WaitUnsupportedError) {
    const node = ctx.nodes[index]?.label ?? `node${index}`;
    if (ctx.waitUnsupported.has(index)) return 'replica-acks-unsupported';
    ctx.waitUnsupported.add(index);
    ctx.events.emit('replica-acks-unsupported', { node, error });
    ctx.options.logger?.error({ node, err: error }, 'replicaAcks is set but the server rejects WAIT');
    return 'replica-acks-unsupported';
  }
  return 'error';
}

/** Outcome of a reply slot: `pending` when the node had not answered when the round was decided. */
export function outcomeOf<T>(
  ctx: LockContext,
  index: number,
  reply: Reply<T> | undefined,
  ok: (value: T) => Outcome,
): Outcome {
  if (!reply) return 'pending';
  return reply.ok ? ok(reply.value) : failureOutcome(ctx, index, reply.error);
}

/** See `driftOf`. */
export function driftMs(ctx: LockContext, ttlMs: number): number {
  return driftOf(ctx.options, ttlMs);
}

/** See `effectiveTtlOf`. */
export function effectiveTtl(ctx: LockContext, ttlMs: number): number {
  return effectiveTtlOf(ctx.options, ttlMs);
}

/** Builds the shared context from validated options: topology, nodes, quorum, keys and the amnesia guard. */
export function createContext(
  o: ResolvedOptions,
  events: Emitter<LockEvents>,
  track: (work: Promise<unknown>) => void,
): { ctx: LockContext; clients: ScriptClient[] } {
  const { topology, clients } = topologyOf(o.nodes);
  const quorum = o.quorum ?? Math.floor(clients.length / 2) + 1;
  // A write with WAIT is sent again after redirections only in the first half of a request's time, so
  // the last one is answered before the caller gives up on it (and cleans up after it).
  const nodes = clients.map(
    (c, i) => new LockNode(labelOf(c, i), c, o.replicaAcks, o.replicaAckTimeoutMs, o.requestTimeoutMs / 2),
  );
  // The guard only makes sense where a quorum can outvote one forgetful node.
  const window = o.maxTtlMs + Math.round(o.maxTtlMs * o.driftFactor) + 2;
  const labels = nodes.map((n) => n.label);
  const guard = new AmnesiaGuard(o.amnesiaGuard && topology === 'quorum', window, labels, (e) => {
    events.emit('node-recovering', e);
    o.logger?.warn({ ...e }, 'lock node restarted without data; its votes wait for the guard window');
  });
  const keys = new Keys(o.prefix, topology === 'cluster');
  const headOf = (resource: string) => ({
    keys: [keys.audit(resource), keys.epoch(resource)],
    // A Cluster has one audit stream per resource: those expire; the shared stream of a node does not.
    args: [
      guard.flag,
      o.staleAfterMs,
      o.region,
      o.auditMaxLen,
      o.recordRetentionMs,
      topology === 'cluster' ? o.auditRetentionMs : 0,
    ],
  });
  // Outside a Cluster the audit stream and the marker are per node, so every acquire shares one head.
  const shared = topology === 'cluster' ? undefined : headOf('');
  const ctx = {
    nodes,
    quorum,
    topology,
    keys,
    guard,
    health: new NodeHealth(nodes.length, SUSPECT_MS),
    options: o,
    events,
    waitUnsupported: new Set<number>(),
    track,
    acquireHead: shared ? () => shared : headOf,
    // Quorum mode publishes once per release from the client instead of once per node.
    releaseHead: { keys: [], args: [topology === 'quorum' ? '0' : '1', o.recordRetentionMs] },
  };
  return { ctx, clients };
}
