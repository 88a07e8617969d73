import type { LockContext } from './context.js';
import { toNumber } from './parse.js';
import { type Reply, round } from './round.js';
import { scripts } from './scripts.js';
import type { ReleaseResult } from './types.js';

/**
 * Runs the release script on the given nodes (all by default) and waits for every answer or timeout.
 * Replies: 1 released, 0 absent, -1 held by another owner. Cleanup of a failed round stays silent;
 * a real release wakes waiters: from inside the script on one master or a Cluster, and with one
 * PUBLISH after the round in quorum mode (one wake-up per release, sent once every node has answered,
 * instead of one per node racing the slower nodes).
 */
export async function releaseOn(
  ctx: LockContext,
  resource: string,
  token: string,
  options: { only?: ReadonlySet<number>; wake?: boolean } = {},
): Promise<(Reply<number> | undefined)[]> {
  const { only, wake = false } = options;
  const channel = ctx.keys.channel(resource);
  const keys = [ctx.keys.lock(resource)];
  const args = [token, wake && ctx.topology !== 'quorum' ? channel : '', resource];
  const skip = Promise.resolve(Number.NaN);
  const n = ctx.nodes.length;
  const replies = await round(
    ctx.nodes,
    (node, i) => (only && !only.has(i) ? skip : node.run(scripts.release, keys, args, false).then(toNumber)),
    {
      timeoutMs: ctx.options.requestTimeoutMs,
      // A release is decided at the quorum-th deletion (or once that is impossible); the slower
      // nodes still run theirs, queued on their connections.
      settled: only
        ? undefined
        : (rs) => {
            let released = 0;
            let other = 0;
            for (const r of rs) {
              if (r?.ok && r.value === 1) released++;
              else if (r) other++;
            }
            return released >= ctx.quorum || other > n - ctx.quorum;
          },
    },
  );
  if (wake && ctx.topology === 'quorum') {
    const first = replies.findIndex((r) => r?.ok && r.value === 1);
    if (first >= 0) ctx.track(ctx.nodes[first]!.client.publish(channel, resource));
  }
  return replies;
}

/** Folds release replies into `{ released, reason }`: released when a quorum removed this owner's record. */
export function releaseResult(
  ctx: LockContext,
  replies: readonly (Reply<number> | undefined)[],
): ReleaseResult {
  let released = 0;
  let absent = 0;
  let taken = 0;
  for (const r of replies) {
    if (!r?.ok) continue;
    if (r.value === 1) released++;
    else if (r.value === 0) absent++;
    else if (r.value === -1) taken++;
  }
  if (released >= ctx.quorum) return { released: true };
  if (taken > 0 && released + absent + taken >= ctx.quorum) return { released: false, reason: 'taken-over' };
  if (released + absent >= ctx.quorum) return { released: false, reason: 'expired' };
  return { released: false, reason: 'unreachable' };
}
