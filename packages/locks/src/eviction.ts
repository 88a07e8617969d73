import type { ScriptClient } from './client.js';
import type { LockContext } from './context.js';

/** The one `maxmemory-policy` under which Redis never drops a key (a live lock record) to free memory. */
const SAFE_POLICY = 'noeviction';

/** The node's `maxmemory-policy`, or undefined when it cannot be read (CONFIG renamed, timeout, down). */
async function policyOf(client: ScriptClient, timeoutMs: number): Promise<string | undefined> {
  const read = client
    .pipeline()
    .call('CONFIG', 'GET', 'maxmemory-policy')
    .exec()
    .then((replies) => {
      const [err, value] = replies?.[0] ?? [];
      return !err && Array.isArray(value) && typeof value[1] === 'string' ? value[1] : undefined;
    })
    .catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, undefined);
    timer.unref();
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads `maxmemory-policy` once from every independent node (not a Cluster's: its masters are known
 * only once it is connected) and reports each that may evict keys: lock records carry a TTL, so a
 * `volatile-*` policy can drop a live lock, and an `allkeys-*` one any record. Where CONFIG is refused
 * (managed services), nothing is reported.
 */
export function checkEvictionPolicies(ctx: LockContext, closed: () => boolean): void {
  if (ctx.topology === 'cluster') return;
  for (const node of ctx.nodes) {
    ctx.track(
      policyOf(node.client, ctx.options.requestTimeoutMs).then((policy) => {
        if (policy === undefined || policy === SAFE_POLICY || closed()) return;
        ctx.events.emit('eviction-policy', { node: node.label, policy });
        ctx.options.logger?.warn(
          { node: node.label, policy },
          'lock node may evict keys (maxmemory-policy); live locks can vanish: use noeviction',
        );
      }),
    );
  }
}
