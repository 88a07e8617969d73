import type { LockContext } from './context.js';
import type { LockNode } from './node.js';
import { type Reply, round } from './round.js';
import type { ReleaseResult } from './types.js';

/** A reply that marked this owner's record released (2: and a contender had been waiting for it). */
const removed = (r: Reply<number> | undefined): boolean => !!r?.ok && (r.value === 1 || r.value === 2);

/** The answer of a node a release skips (it never reads as a removal). */
const SKIP = Promise.resolve(Number.NaN);

/**
 * Runs the release script on the given nodes (all by default) and resolves at the quorum-th answer.
 * Replies: 1 released, 2 released and a contender waited, 0 absent, already released or expired, -1
 * held by another owner, -3 unknown (a hand-off repeated after its reply was lost: folds into
 * 'unreachable' unless a quorum answered otherwise). Cleanup of a failed round stays silent. Only a contended release wakes
 * waiters (the acquire script flags a contender): from inside the script on one master or a Cluster, and with one PUBLISH in quorum mode
 * (one wake-up per release, sent once a node reports a waiter, instead of one per node). With
 * `handOff` (a waiter of this manager was just woken) the release is queued at once and held for the
 * rest of this tick, so the waiter's attempt follows it in the same write to each node.
 */
export function releaseOn(
  ctx: LockContext,
  resource: string,
  token: string,
  options: { only?: ReadonlySet<number>; wake?: boolean; handOff?: boolean } = {},
  /**
   * The held lock's fence, so a repeat of this call (ioredis re-sends it after a lost reply) knows its own
   * release. Not sent to a quorum: two owners' records can carry one fence there (see release.lua).
   */
  fence?: number,
): Promise<(Reply<number> | undefined)[]> {
  const { only, wake = false, handOff = false } = options;
  const quorumMode = ctx.topology === 'quorum';
  const channel = wake ? ctx.keys.channel(resource) : '';
  const item = {
    head: ctx.releaseHead,
    keys: [ctx.keys.lock(resource), ctx.keys.waiters(resource)],
    args: [token, channel, resource, fence === undefined || quorumMode ? '' : String(fence)],
  };
  const n = ctx.nodes.length;
  let published = false;
  const publish = (i: number) => {
    if (published || !wake || !quorumMode) return;
    published = true;
    ctx.track(ctx.nodes[i]!.client.publish(channel, resource));
  };
  const call = (node: LockNode, i: number) => {
    if (only && !only.has(i)) return SKIP;
    if (!handOff) return node.calls.release.call(item);
    node.hold();
    return node.calls.release.call(item, true);
  };
  const asked = only ? only.size : n;
  return round(ctx.nodes, call, {
    timeoutMs: ctx.options.requestTimeoutMs,
    // A release is decided at the quorum-th deletion (or once that is impossible among the nodes it
    // asked); the slower nodes still run theirs, queued on their connections.
    settled: (rs) => {
      let released = 0;
      let other = 0;
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i];
        if (!r || (only && !only.has(i))) continue;
        if (removed(r)) released++;
        else other++;
      }
      return released >= ctx.quorum || asked - other < ctx.quorum;
    },
    // The wake-up goes at the first node that reports a waiter, in time or late: not after the slowest
    // node asked (a paused one would hold it for requestTimeoutMs).
    onReply: (i, value) => {
      if (value === 2) publish(i);
    },
    onLate: (i, late) => {
      if (late.ok && late.value === 2) publish(i);
    },
  });
}

/** Folds release replies into `{ released, reason }`: released when a quorum marked this owner's live record released. */
export function releaseResult(
  ctx: LockContext,
  replies: readonly (Reply<number> | undefined)[],
): ReleaseResult {
  let released = 0;
  let absent = 0;
  let taken = 0;
  for (const r of replies) {
    if (!r?.ok) continue;
    if (r.value === 1 || r.value === 2) released++;
    else if (r.value === 0) absent++;
    else if (r.value === -1) taken++;
  }
  if (released >= ctx.quorum) return { released: true };
  if (taken > 0 && released + absent + taken >= ctx.quorum) return { released: false, reason: 'taken-over' };
  if (released + absent >= ctx.quorum) return { released: false, reason: 'expired' };
  return { released: false, reason: 'unreachable' };
}
