import type { LockContext } from './context.js';
import { asArray, holderAt } from './parse.js';
import { round } from './round.js';
import { scripts } from './scripts.js';
import type { HolderInfo, Inspection, NodeView } from './types.js';

/** Reads the record of `resource` on every node (and refreshes each node's amnesia state). */
export async function inspectResource(ctx: LockContext, resource: string): Promise<Inspection> {
  const keys = [ctx.keys.lock(resource), ctx.keys.epoch(resource)];
  const replies = await round(
    ctx.nodes,
    async (node, i) => {
      const raw = asArray(await node.run(scripts.inspect, keys, [ctx.guard.flag], false));
      return { trusted: ctx.guard.observe(i, raw[0], raw[1]), holder: holderAt(raw, 2) };
    },
    { timeoutMs: ctx.options.requestTimeoutMs },
  );
  const nodes: NodeView[] = replies.map((r, i) => {
    const state = ctx.guard.state(i);
    return {
      node: ctx.nodes[i]!.label,
      reachable: r?.ok === true,
      holder: r?.ok ? r.value.holder : undefined,
      trusted: r?.ok ? r.value.trusted : false,
      trustedFrom: state.trustedFrom,
      epoch: state.epoch,
      ...(r && !r.ok ? { error: r.error } : {}),
    };
  });
  const counts = new Map<string, { holder: HolderInfo; n: number }>();
  for (const view of nodes) {
    if (!view.trusted || !view.holder) continue;
    const entry = counts.get(view.holder.token) ?? { holder: view.holder, n: 0 };
    entry.n++;
    counts.set(view.holder.token, entry);
  }
  const holder = [...counts.values()].find((e) => e.n >= ctx.quorum)?.holder;
  return { resource, nodes, holder };
}
