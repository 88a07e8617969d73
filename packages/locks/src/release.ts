import type { LockContext } from './context.js';
import { toNumber } from './parse.js';
import { type Reply, round } from './round.js';
import { scripts } from './scripts.js';
import type { ReleaseResult } from './types.js';

/**
 * Runs the release script on the given nodes (all by default) and waits for every answer or timeout.
 * Replies: 1 released, 0 absent, -1 held by another owner.
 */
export function releaseOn(
  ctx: LockContext,
  resource: string,
  token: string,
  only?: ReadonlySet<number>,
): Promise<(Reply<number> | undefined)[]> {
  const keys = [ctx.keys.lock(resource)];
  const args = [token, ctx.keys.channel(resource), resource];
  const skip = Promise.resolve(Number.NaN);
  return round(
    ctx.nodes,
    (node, i) => (only && !only.has(i) ? skip : node.run(scripts.release, keys, args, false).then(toNumber)),
    { timeoutMs: ctx.options.requestTimeoutMs },
  );
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
