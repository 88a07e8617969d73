import type { ResolvedAcquire } from './acquire-options.js';
import type { AcquireReply } from './calls.js';
import { driftMs, effectiveTtl, type LockContext, outcomeOf } from './context.js';
import { LockConflictError, QuorumUnavailableError } from './errors.js';
import { majorityHolder, toNumber } from './parse.js';
import { releaseOn } from './release.js';
import { type Reply, round, type Wave } from './round.js';
import { scripts } from './scripts.js';
import type { HolderInfo, NodeOutcome } from './types.js';
import { firstWave } from './wave.js';

type Vote = AcquireReply;

export type Attempt =
  | {
      ok: true;
      fence: number;
      startedAt: number;
      validUntilMono: number;
      /** The nodes asked (the only ones that may hold the record until a heartbeat); undefined: all. */
      nodes?: ReadonlySet<number>;
      /** The nodes the round did not ask (a first wave): no write of the record was sent there. */
      absent?: number[];
      /** Stale holders replaced by this acquisition, with the nodes they were replaced on. */
      overridden: { previous: HolderInfo; nodes: string[] }[];
      /** The caller sets `lock` to the lock it made of this grant (see `LateGrants`; quorum rounds only). */
      late?: LateGrants;
    }
  | {
      ok: false;
      conflict: boolean;
      holder: HolderInfo | undefined;
      /** Builds the error only when it is thrown: a waiting caller may fail many rounds. */
      error(): LockConflictError | QuorumUnavailableError;
    };

/**
 * A grant (or an error after which the write may have landed: a WAIT that fell short, a closed
 * connection) that reaches a node after its round was decided is released there again once the lock
 * it was for has ended, if the lock's own release may have run before it (a call retried after
 * NOSCRIPT runs behind calls written later; see `LockNode.inOrderSince`). Otherwise the lock's release,
 * written to that node after it, covers it, and a second release would only cost a call.
 */
export interface LateGrants {
  lock?: { readonly state: string };
}

/** What an acquisition that replaced no stale holder reports (shared: never mutated). */
const NONE: Extract<Attempt, { ok: true }>['overridden'] = [];

const granted = (r: Reply<Vote> | undefined): r is { ok: true; value: Vote } => !!r?.ok && r.value.status > 0;

/**
 * One acquisition round: the acquire script on a first wave of a quorum of healthy nodes (see
 * `firstWave`), widened to every node as soon as one of them does not grant or the wave lags, or on
 * every node at once; decided at the quorum-th vote (or as soon as a quorum is impossible). In quorum mode the fence is the largest one among the
 * grants; if fewer than a quorum of trusted nodes already carry it, one more round raises the others'
 * high-water fences, so the next acquisition on any quorum sees a larger one. On failure every node that may hold the
 * record is released again (queued behind the acquire on the same connection, so even late grants go).
 */
export async function attemptAcquire(
  ctx: LockContext,
  resource: string,
  token: string,
  a: ResolvedAcquire,
): Promise<Attempt> {
  const n = ctx.nodes.length;
  const q = ctx.quorum;
  const o = ctx.options;
  const lockKey = ctx.keys.lock(resource);
  const item = {
    head: ctx.acquireHead(resource),
    keys: [lockKey, ctx.keys.waiters(resource)],
    args: [token, a.ttlMs, a.meta, resource],
  };
  const startedAt = performance.now();
  // A grant that lands after this round failed (a late reply, or a NOSCRIPT retry that overtook the
  // cleanup), or after the lock it granted ended, is released again right away instead of blocking
  // others until its TTL.
  let failed = false;
  const late: LateGrants = {};
  const marks = ctx.nodes.map((node) => node.resendMark());
  const judge = (i: number, r: Vote) => {
    r.trusted = ctx.guard.observe(i, r.epoch, r.epochAge);
  };
  const picked = firstWave(ctx);
  const wave: Wave<Vote> | undefined = picked && {
    ...picked,
    // A vote that cannot count (an error, or a node the amnesia guard ignores) asks the others at once.
    // A live holder's conflict waits for the rest of the wave: a wave of conflicts settles the round
    // (the lock is held) without writing our record on the nodes the holder's wave left out.
    widen: (_i, r) => !r.ok || (r.value.status > 0 && !r.value.trusted),
    asked: new Set<number>(),
  };
  const asked = (i: number) => !wave || wave.asked.has(i);
  const replies = await round<Vote>(ctx.nodes, (node) => node.calls.acquire.call(item), {
    timeoutMs: o.requestTimeoutMs,
    wave,
    health: ctx.health,
    onReply: judge,
    settled: (rs) => {
      let votes = 0;
      let against = 0;
      for (const r of rs) {
        if (!r) continue;
        if (granted(r) && r.value.trusted) votes++;
        else against++;
      }
      return votes >= q || against > n - q;
    },
    // A live holder met and no quorum without the nodes that lagged the hedge: fail now (safe, and the
    // caller may try again) rather than wait requestTimeoutMs for a paused node to break the tie.
    stopWaiting: (rs) => rs.some((r) => r?.ok && r.value.status === 0),
    onLate: (i, reply) => {
      if (reply.ok) judge(i, reply.value);
      // Anything but a refusal may have written (see `LateGrants`); a release of a record that is not
      // there changes nothing.
      if (reply.ok && reply.value.status <= 0) return;
      const lock = late.lock;
      if (!failed && (lock === undefined || lock.state === 'held')) return;
      // A lock released by its owner: its release went to this node after this call, and covers the
      // grant unless this call may have run after it (sent again after NOSCRIPT, say).
      // (Not a late error: a closed connection fails the release queued behind it too.)
      if (reply.ok && !failed && lock?.state === 'released' && ctx.nodes[i]!.inOrderSince(marks[i]!)) return;
      ctx.track(releaseOn(ctx, resource, token, { only: new Set([i]) }));
    },
  });
  // One pass: trusted votes, the largest granted fence, how many trusted grants carry it, and whether
  // any grant replaced a stale holder.
  let votes = 0;
  let fence = 0;
  let atMaxCount = 0;
  let replaced = false;
  for (const r of replies) {
    if (!granted(r)) continue;
    const v = r.value;
    if (v.trusted) votes++;
    if (v.fence > fence) {
      fence = v.fence;
      atMaxCount = 0;
    }
    if (v.trusted && v.fence === fence) atMaxCount++;
    if (v.status === 2) replaced = true;
  }
  const overridden = replaced ? collectOverrides(ctx, replies) : NONE;
  let failure: Error | undefined;
  // Usually a quorum already carries the fence: no raise round, no set of carriers, no extra await.
  if (votes >= q && ctx.topology === 'quorum' && atMaxCount < q) {
    failure = await raiseFence(ctx, replies, carrying(replies, fence), lockKey, token, fence);
  }
  const validUntilMono = startedAt + effectiveTtl(ctx, a.ttlMs) - driftMs(ctx, a.ttlMs);
  if (votes >= q && !failure && performance.now() < validUntilMono) {
    const absent = wave ? ctx.nodes.flatMap((_, i) => (wave.asked.has(i) ? [] : [i])) : undefined;
    return { ok: true, fence, startedAt, validUntilMono, nodes: wave?.asked, absent, overridden, late };
  }
  failed = true;
  // Clean up wherever our record may exist: grants, errors and asked nodes that have not answered yet.
  const dirty = new Set(replies.flatMap((r, i) => ((r?.ok && r.value.status === 0) || !asked(i) ? [] : [i])));
  if (dirty.size > 0) ctx.track(releaseOn(ctx, resource, token, { only: dirty }));
  const outcomes = (): NodeOutcome[] =>
    replies.map((r, i) => ({
      node: ctx.nodes[i]!.label,
      outcome: !asked(i)
        ? 'not-asked'
        : outcomeOf(ctx, i, r, (v) =>
            v.status === 0
              ? 'conflict'
              : !v.trusted
                ? 'recovering'
                : v.status === 2
                  ? 'overridden'
                  : 'granted',
          ),
      ...(r?.ok && r.value.holder ? { holder: r.value.holder } : {}),
      ...(r && !r.ok ? { error: r.error } : {}),
    }));
  const conflicts = replies.filter((r) => r?.ok && r.value.status === 0);
  const unreachable = replies.filter((r, i) => !r?.ok && asked(i)).length;
  const holder = majorityHolder(conflicts.map((r) => (r?.ok ? r.value.holder : undefined)));
  if (conflicts.length > 0 && (conflicts.length > n - q || unreachable === 0)) {
    return {
      ok: false,
      conflict: true,
      holder,
      error: () => new LockConflictError(resource, holder, outcomes()),
    };
  }
  return {
    ok: false,
    conflict: false,
    holder,
    error: () => new QuorumUnavailableError(resource, q, outcomes(), failure),
  };
}

function collectOverrides(ctx: LockContext, replies: readonly (Reply<Vote> | undefined)[]) {
  const byToken = new Map<string, { previous: HolderInfo; nodes: string[] }>();
  replies.forEach((r, i) => {
    if (!r?.ok || r.value.status !== 2 || !r.value.holder) return;
    const entry = byToken.get(r.value.holder.token) ?? { previous: r.value.holder, nodes: [] };
    entry.nodes.push(ctx.nodes[i]!.label);
    byToken.set(r.value.holder.token, entry);
  });
  return [...byToken.values()];
}

/** Trusted nodes whose grant already carries `fence`. */
function carrying(replies: readonly (Reply<Vote> | undefined)[], fence: number): Set<number> {
  const atMax = new Set<number>();
  replies.forEach((r, i) => {
    if (granted(r) && r.value.trusted && r.value.fence === fence) atMax.add(i);
  });
  return atMax;
}

/**
 * Quorum mode, when fewer than a quorum of trusted nodes (`atMax`) carry `fence`: raise the others'
 * high-water fences. Resolves to an error if a quorum cannot be reached.
 */
async function raiseFence(
  ctx: LockContext,
  replies: readonly (Reply<Vote> | undefined)[],
  atMax: ReadonlySet<number>,
  lockKey: string,
  token: string,
  fence: number,
): Promise<Error | undefined> {
  const trusted = (i: number) => replies[i]?.ok === true && (replies[i] as { value: Vote }).value.trusted;
  const skip = Promise.resolve(-1);
  const raised = await round(
    ctx.nodes,
    (node, i) =>
      atMax.has(i)
        ? skip
        : node
            .run(scripts.raise, [lockKey], [token, fence, ctx.options.recordRetentionMs], true)
            .then(toNumber),
    {
      timeoutMs: ctx.options.requestTimeoutMs,
      settled: (rs) =>
        atMax.size + rs.filter((r, i) => r?.ok && r.value >= 0 && trusted(i)).length >= ctx.quorum,
    },
  );
  const acks = raised.filter((r, i) => r?.ok && r.value >= 0 && trusted(i)).length;
  if (atMax.size + acks >= ctx.quorum) return undefined;
  return new Error(`fence ${fence} reached ${atMax.size + acks} of ${ctx.quorum} nodes`);
}
