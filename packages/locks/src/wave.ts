import type { LockContext } from './context.js';

/** Fewest ms before the rest of the nodes are asked, however fast the first wave usually answers. */
export const MIN_HEDGE_MS = 5;
/** A first wave gets this many times its slowest node's usual reply time before the rest are asked. */
export const HEDGE_FACTOR = 4;

/**
 * The nodes an acquisition asks first in quorum mode: the first quorum, in the order the nodes were
 * given, of nodes that answered before, did not fail since, and whose votes count (amnesia guard).
 * One order for every resource and every manager configured alike: contenders meet on the same nodes,
 * and calls made in one tick share one script call per node. Undefined (ask every node at once)
 * outside quorum mode, with `fanout: 'all'`, or when too few nodes qualify. Only the number of calls
 * depends on this: a lock is granted by a quorum of trusted votes whichever nodes were asked.
 */
export function firstWave(ctx: LockContext): { first: number[]; hedgeMs: number } | undefined {
  const n = ctx.nodes.length;
  const q = ctx.quorum;
  if (ctx.topology !== 'quorum' || ctx.options.fanout === 'all' || q >= n) return undefined;
  const now = performance.now();
  const first: number[] = [];
  let slowest = 0;
  for (let i = 0; i < n && first.length < q; i++) {
    if (!ctx.health.usable(i, now) || !ctx.guard.trustedNow(i)) continue;
    first.push(i);
    slowest = Math.max(slowest, ctx.health.rttMs(i));
  }
  if (first.length < q) return undefined;
  const hedgeMs = Math.min(Math.max(MIN_HEDGE_MS, slowest * HEDGE_FACTOR), ctx.options.requestTimeoutMs / 2);
  return { first, hedgeMs };
}
