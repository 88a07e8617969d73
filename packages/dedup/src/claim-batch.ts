import { randomBytes } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { type ClaimArgs, expandClaimReply } from './claim-reply.js';
import type { DedupPipeline } from './client.js';
import { type DedupCore, inProgressTtlMs } from './core.js';
import { runClaim, runScript } from './scripts.js';

/** Unique per process; with a counter it makes owner tokens unique without a random draw per claim. */
const processTag = randomBytes(9).toString('base64url');
let sequence = 0;

/** Token prefix of one claim call; the script appends `:<index>` per key. */
export function tokenPrefix(): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${processTag}.${sequence.toString(36)}`;
}

/** Claim script arguments for one group of keys (one slot on a Cluster). */
function claimArgs(core: DedupCore): ClaimArgs {
  const { owner, leaseMs } = core.options;
  return [tokenPrefix(), owner, leaseMs, inProgressTtlMs(leaseMs)];
}

/** Splits indexes of `ids` into groups that share a hash slot, and those groups by serving node. */
function groupBySlotAndNode(core: DedupCore, ids: string[]): Map<string, number[][]> {
  const bySlot = new Map<number, number[]>();
  ids.forEach((id, i) => {
    const slot = calculateSlot(core.keys.wireKey(id));
    const group = bySlot.get(slot);
    if (group) group.push(i);
    else bySlot.set(slot, [i]);
  });
  const byNode = new Map<string, number[][]>();
  for (const [slot, group] of bySlot) {
    // Unknown slot owner (topology still loading or resharding): that group goes alone and lets
    // ioredis route and redirect it.
    const node = core.redis.slots?.[slot]?.join(',') ?? `slot:${slot}`;
    const groups = byNode.get(node);
    if (groups) groups.push(group);
    else byNode.set(node, [group]);
  }
  return byNode;
}

const redirected = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

/** Runs the multi-id claim script over `keys` (one slot); resolves to one reply entry per key. */
export async function claimGroup(core: DedupCore, keys: string[]): Promise<unknown[]> {
  const args = claimArgs(core);
  return expandClaimReply(await runClaim(core.redis, keys, args), keys.length, args);
}

/** Queues the claim script on a pipeline; the returned function expands that call's reply. */
function queueGroup(core: DedupCore, pipeline: DedupPipeline, keys: string[]) {
  const args = claimArgs(core);
  runClaim(pipeline, keys, args);
  return (reply: unknown) => expandClaimReply(reply, keys.length, args);
}

/**
 * Sends one pipeline per node, one claim script per slot inside it. A group whose pipelined reply is an
 * error (MOVED during resharding, a failover) is retried once on its own, which ioredis routes.
 */
async function claimOnNode(
  core: DedupCore,
  ids: string[],
  groups: number[][],
  replies: unknown[],
): Promise<void> {
  const keysOf = (group: number[]) => group.map((i) => core.keys.key(ids[i]!));
  const place = (group: number[], reply: unknown[]) => {
    for (const [j, i] of group.entries()) replies[i] = reply[j];
  };
  if (groups.length === 1) {
    place(groups[0]!, await claimGroup(core, keysOf(groups[0]!)));
    return;
  }
  const pipeline = core.redis.pipeline();
  const expanders = groups.map((group) => queueGroup(core, pipeline, keysOf(group)));
  const results = (await pipeline.exec()) ?? [];
  await Promise.all(
    groups.map(async (group, g) => {
      const [err, reply] = results[g] ?? [new Error('pipeline returned no reply'), undefined];
      if (!err) {
        place(group, expanders[g]!(reply));
        return;
      }
      // Only redirections are retried: they mean the script did not run, so nothing was claimed twice.
      if (!redirected.test(err.message)) throw err;
      place(group, await claimGroup(core, keysOf(group)));
    }),
  );
}

/** The single-id fast path: one key, flat reply, token made here. */
export function claimOne(core: DedupCore, id: string): Promise<unknown> {
  const { owner, leaseMs } = core.options;
  return runScript(core.redis, 'claimOne', core.keys.key(id), [
    `${tokenPrefix()}:1`,
    owner,
    leaseMs,
    inProgressTtlMs(leaseMs),
  ]);
}

/**
 * Claims every id in one round trip per node: one script call on a single master, one pipeline of
 * per-slot script calls per master on a Cluster. Resolves to the raw reply entries in input order.
 */
export async function claimBatch(core: DedupCore, ids: string[]): Promise<unknown[]> {
  if (!core.redis.isCluster) {
    return claimGroup(
      core,
      ids.map((id) => core.keys.key(id)),
    );
  }
  const replies: unknown[] = new Array(ids.length);
  const byNode = groupBySlotAndNode(core, ids);
  await Promise.all([...byNode.values()].map((groups) => claimOnNode(core, ids, groups, replies)));
  return replies;
}
