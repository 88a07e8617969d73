import type { ScriptClient } from './client.js';
import type { LockContext } from './context.js';
import { round } from './round.js';

/** The one `maxmemory-policy` under which Redis never drops a key (a live lock record) to free memory. */
const SAFE_POLICY = 'noeviction';

/** The node's `maxmemory-policy`, or undefined when it cannot be read (CONFIG renamed or refused). */
async function policyOf(client: ScriptClient): Promise<string | undefined> {
  const replies = await client.pipeline().call('CONFIG', 'GET', 'maxmemory-policy').exec();
  const [err, value] = replies?.[0] ?? [];
  return !err && Array.isArray(value) && typeof value[1] === 'string' ? value[1] : undefined;
}

/**
 * Reads `maxmemory-policy` once from every independent node (not a Cluster's: its masters are known
 * only once it is connected) and reports each that may evict keys: lock records carry a TTL, so a
 * `volatile-*` policy can drop a live lock, and an `allkeys-*` one any record. Where CONFIG is refused
 * (managed services), or a node does not answer within `requestTimeoutMs`, nothing is reported.
 */
export function checkEvictionPolicies(ctx: LockContext, closed: () => boolean): void {
  if (ctx.topology === 'cluster') return;
  const read = round(ctx.nodes, (node) => policyOf(node.client), { timeoutMs: ctx.options.requestTimeoutMs });
  ctx.track(
    read.then((replies) => {
      replies.forEach((r, i) => {
        const policy = r?.ok ? r.value : undefined;
        if (policy === undefined || policy === SAFE_POLICY || closed()) return;
        const node = ctx.nodes[i]!.label;
        ctx.events.emit('eviction-policy', { node, policy });
        ctx.options.logger?.warn(
          { node, policy },
          'lock node may evict keys (maxmemory-policy); live locks can vanish: use noeviction',
        );
      });
    }),
  );
}
