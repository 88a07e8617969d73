import { describe, expect, it } from 'vitest';
import {
  isLockConflictError,
  isQuorumUnavailableError,
  type LockManager,
  type LockManagerOptions,
} from '../src/index.js';
import type { HeldLock } from '../src/lock.js';
import { scripts } from '../src/scripts.js';
import { fiveMasters, sleep } from './helpers.js';

// Quorum mode asks a quorum of healthy nodes first (fanout 'quorum', the default) and the others only
// when that first wave cannot decide the acquisition on its own.

const base = {
  maxTtlMs: 3_000,
  defaultTtlMs: 2_000,
  heartbeatIntervalMs: 200,
  staleAfterMs: 1_500,
  requestTimeoutMs: 400,
} satisfies Partial<LockManagerOptions>;
const { manager, clients, nodes } = fiveMasters(base, { warm: true });

/**
 * Script calls on each of the 5 nodes since the last reset (from their SLOWLOG, through the first
 * manager's connections). Fence raises are not counted: one follows an acquisition whose grants read
 * TIME on either side of a second, which a loaded machine makes more likely.
 */
async function callsPerNode(): Promise<number[]> {
  const raise = (argv: string[]) =>
    argv[1] === scripts.raise.sha || argv[1]?.startsWith(`-- ${scripts.raise.name}`);
  return Promise.all(
    [0, 1, 2, 3, 4].map(async (i) => {
      const entries = (await clients[i]!.slowlog('GET', -1)) as [number, number, number, string[]][];
      return entries.filter(([, , , argv]) => /^eval(sha)?$/i.test(argv[0] ?? '') && !raise(argv)).length;
    }),
  );
}
/** Logs every command from now on (SLOWLOG, threshold 0), the log emptied. */
const resetStats = () =>
  Promise.all(
    [0, 1, 2, 3, 4].map(async (i) => {
      await clients[i]!.config('SET', 'slowlog-log-slower-than', '0');
      await clients[i]!.config('SET', 'slowlog-max-len', '10000');
      await clients[i]!.slowlog('RESET');
    }),
  );
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Writes a live record of `other-owner` for `resource` (for a minute) on the nodes at `indexes`. */
async function otherOwner(resource: string, indexes: number[]): Promise<void> {
  const [seconds] = await clients[0]!.time();
  const now = Number(seconds) * 1000;
  const record = `${now + 60_000} 5 other-owner 5 ${now} ${now} 15000 1 0 0 x`;
  for (const i of indexes) await clients[i]!.set(`cxkit:locks:{${resource}}`, record, 'PX', 60_000);
}

/** Indexes of the nodes whose record of `resource` names `token` as its live holder. */
async function holders(m: LockManager, resource: string, token: string): Promise<number[]> {
  return (await m.inspect(resource)).nodes.flatMap((n, i) => (n.holder?.token === token ? [i] : []));
}

/** How many nodes' records of `resource` name `token` as its live holder. */
async function holding(m: LockManager, resource: string, token: string): Promise<number> {
  return (await holders(m, resource, token)).length;
}

describe("fanout 'quorum': a first wave of a quorum of nodes", () => {
  it('an uncontended acquire and release call 3 of 5 nodes each: the first three, in the order given', async () => {
    const m = manager('us-east-1');
    // A new manager knows no node yet: its first acquisition asks all five.
    await (await m.acquire('fan:first', { heartbeat: false })).release();
    await resetStats();
    for (let i = 0; i < 40; i++) await (await m.acquire(`fan:one:${i}`, { heartbeat: false })).release();
    // Every acquire and release ran on three nodes, the first three while they answer in time: the
    // other two see calls only when a wave is widened (a hedge after a scheduling stall, which also
    // leaves the lagging node out of first waves for a second) or a fence raised (grants on either side
    // of a second, not counted here). Asking every node would put 400 calls on the five, 160 of them on
    // the last two.
    const calls = await callsPerNode();
    expect(sum(calls)).toBeGreaterThanOrEqual(240);
    expect(sum(calls)).toBeLessThanOrEqual(240 + 40);
    // Healthy, the first three carry all 240; one of them left out for a while moves its share to node 4.
    expect(sum(calls.slice(0, 3))).toBeGreaterThanOrEqual(160);
    expect(calls[3]! + calls[4]!).toBeLessThanOrEqual(120);
  });

  it("fanout 'all' asks every node, as Redlock does", async () => {
    const m = manager('us-east-1', { fanout: 'all' });
    await (await m.acquire('fan:all:first', { heartbeat: false })).release();
    // A release resolves at the quorum-th node: let the other two finish before counting.
    await sleep(200);
    await resetStats();
    for (let i = 0; i < 10; i++) await (await m.acquire(`fan:all:${i}`, { heartbeat: false })).release();
    await sleep(200);
    // Every node saw every acquire and release (fence raises, when the grants of one acquisition
    // straddle a second, are not counted: see callsPerNode).
    // A grant answered after the quorum-th is covered by the release written after it: no second
    // release (that would be about two calls per acquisition; a few spare for a round a loaded machine
    // timed out, whose cleanup releases).
    const calls = await callsPerNode();
    expect(calls.every((c) => c >= 10 * 2)).toBe(true);
    expect(sum(calls)).toBeLessThanOrEqual(10 * 5 * 2 + 4);
  });

  it('a lock held past the grant is written to the nodes its wave did not ask, heartbeat or not; release clears them all', async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:spread:first', { heartbeat: false })).release();
    const lock = await m.acquire('fan:spread', { heartbeat: false });
    await sleep(300);
    expect(await holding(m, 'fan:spread', lock.token)).toBe(5);
    expect(await lock.release()).toEqual({ released: true });
    expect((await m.inspect('fan:spread')).nodes.every((n) => n.holder === undefined)).toBe(true);
  });

  it('the spread records of a lock without heartbeat expire with those of its wave, not a TTL after the spread', async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:spread-ttl:first', { heartbeat: false })).release();
    const lock = await m.acquire('fan:spread-ttl', { heartbeat: false, ttlMs: 2_000 });
    await sleep(300);
    expect(await holding(m, 'fan:spread-ttl', lock.token)).toBe(5);
    // Record: "<expires (server ms)> ...", node 0 from the wave, node 4 from the spread.
    const expires = async (i: number) =>
      Number((await clients[i]!.get('cxkit:locks:{fan:spread-ttl}'))!.split(' ')[0]);
    expect(Math.abs((await expires(4)) - (await expires(0)))).toBeLessThan(60);
    await lock.release();
  });

  it('extend() before the spread, with a wave node paused: not confirmed, but not lost either (the nodes the wave did not ask never held the record)', async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:early:first', { heartbeat: false })).release();
    // A grant from a first wave of 3 (a wave that lagged past its hedge on a loaded machine asked all
    // five: try again).
    let lock: HeldLock | undefined;
    for (let i = 0; i < 10 && !lock; i++) {
      const l = (await m.acquire(`fan:early:${i}`, { heartbeat: false })) as HeldLock;
      if (l.nodes?.size === 3) lock = l;
      else await l.release();
    }
    if (!lock) throw new Error('no grant from a first wave of 3 in 10 tries');
    // From the grant to extend() nothing yields to the event loop (the pause is a synchronous SIGSTOP):
    // the spread, due 100 ms after the grant, cannot run first.
    const lost: unknown[] = [];
    m.on('lost', (e) => lost.push(e));
    expect(lock.absentNodes()?.size).toBe(2);
    // One node of the wave (usually nodes 0-2; one that lagged lately under load is left out).
    const wave = [...lock.nodes!].sort((a, b) => a - b);
    const paused = nodes()[wave[2]!]!;
    await paused.pause();
    try {
      // Two extensions from the wave and two first writes on nodes 3 and 4: not a quorum of extensions.
      const err = await lock.extend().catch((e: unknown) => e);
      expect(isQuorumUnavailableError(err)).toBe(true);
      expect(lock.signal.aborted).toBe(false);
      expect(lost).toEqual([]);
    } finally {
      await paused.resume();
    }
    // The next round finds the record live on every node.
    await lock.extend();
    expect(await holding(m, lock.resource, lock.token)).toBe(5);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('a wave node that loses the record (eviction, failover to a lagging replica) does not free a quorum for another owner', async () => {
    const [x, y] = [manager('us-east-1'), manager('eu-west-1')];
    for (const m of [x, y]) await (await m.acquire('fan:lost:first', { heartbeat: false })).release();
    const lock = await x.acquire('fan:lost', { heartbeat: false });
    await sleep(300);
    // Node 0 is in every first wave: the record is gone there, on one node of five.
    await clients[0]!.del('cxkit:locks:{fan:lost}');
    const err = await y.acquire('fan:lost').catch((e: unknown) => e);
    expect(isLockConflictError(err)).toBe(true);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('a contender meets the holder on its first wave: a conflict naming the holder, and no record of its own anywhere', async () => {
    const owner = manager('us-east-1');
    const contender = manager('eu-west-1');
    for (const m of [owner, contender]) await (await m.acquire('fan:warm', { heartbeat: false })).release();
    for (let i = 0; i < 10; i++) {
      const resource = `fan:held:${i}`;
      const lock = await owner.acquire(resource, { heartbeat: false });
      const err = await contender.acquire(resource, { heartbeat: false }).catch((e: unknown) => e);
      expect(isLockConflictError(err)).toBe(true);
      if (isLockConflictError(err)) {
        expect(err.holder?.token).toBe(lock.token);
        expect(err.nodes.filter((n) => n.outcome === 'conflict').length).toBeGreaterThanOrEqual(3);
      }
      const view = await owner.inspect(resource);
      expect(view.nodes.every((n) => n.holder === undefined || n.holder.token === lock.token)).toBe(true);
      await lock.release();
    }
  });

  it("another owner's live record on one node of the wave: the others are asked and grant the quorum", async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:left:first', { heartbeat: false })).release();
    // Node 0 alone holds a live record of another owner (e.g. the leftover of a failed acquisition).
    await otherOwner('fan:left', [0]);
    const lock = await m.acquire('fan:left', { heartbeat: false });
    expect(await holding(m, 'fan:left', lock.token)).toBe(4);
    expect((await m.inspect('fan:left')).nodes[0]!.holder?.token).toBe('other-owner');
    expect(await lock.release()).toEqual({ released: true });
    await clients[0]!.del('cxkit:locks:{fan:left}');
  });

  it('a paused node: acquisitions that would ask it widen to the others and still get their quorum', async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:pause:first', { heartbeat: false })).release();
    const paused = nodes()[2]!;
    await paused.pause();
    try {
      const started = performance.now();
      for (let i = 0; i < 20; i++) {
        const lock = await m.acquire(`fan:pause:${i}`, { heartbeat: false });
        expect(await lock.release()).toEqual({ released: true });
      }
      // Only the first acquisition that asks the paused node waits for the hedge; after that the node is
      // left out of first waves, so 20 acquisitions take far less than 20 request timeouts.
      expect(performance.now() - started).toBeLessThan(5 * base.requestTimeoutMs);
    } finally {
      await paused.resume();
    }
  });

  it('a paused node the wave asked: the release is decided at the quorum-th removal, not at its timeout', async () => {
    const m = manager('us-east-1');
    await (await m.acquire('fan:rel:first', { heartbeat: false })).release();
    const paused = nodes()[0]!;
    await paused.pause();
    try {
      // The wave still counts on node 0, waits for the hedge, then asks the rest: all five were asked.
      const lock = await m.acquire('fan:rel', { heartbeat: false });
      const started = performance.now();
      expect(await lock.release()).toEqual({ released: true });
      expect(performance.now() - started).toBeLessThan(base.requestTimeoutMs / 2);
    } finally {
      await paused.resume();
    }
  });

  it('a split vote around a paused node fails within a quarter of requestTimeoutMs instead of waiting for the node to break the tie', async () => {
    // A quarter of this timeout (250 ms) is how long the silent node is waited for; the bound below
    // leaves room for a loaded machine, and node 0's outcome tells a decided round from a timed-out one.
    const timeoutMs = 1_000;
    const m = manager('us-east-1', { requestTimeoutMs: timeoutMs });
    const node0 = (err: unknown) => (err as { nodes?: { outcome: string }[] }).nodes?.[0]?.outcome;
    await (await m.acquire('fan:split:first', { heartbeat: false })).release();
    // Nodes 3 and 4 hold another owner's live record: with node 0 paused the wave gets 2 grants, the
    // others 2 conflicts, and only node 0 could decide.
    await otherOwner('fan:split', [3, 4]);
    const paused = nodes()[0]!;
    await paused.pause();
    try {
      const started = performance.now();
      const err = await m.acquire('fan:split', { heartbeat: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      // Waiting for node 0 would take the whole requestTimeoutMs (it would then read as timed out); it
      // is given up on after a quarter, still pending.
      expect(performance.now() - started).toBeLessThan(timeoutMs * 0.75);
      expect(node0(err)).toBe('pending');
      // Node 0 is now left out of first waves; the wave 1-3 is split too, and widening asks node 0
      // again: a node that failed recently is not waited for either.
      const again = performance.now();
      const second = await m.acquire('fan:split', { heartbeat: false }).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(Error);
      expect(performance.now() - again).toBeLessThan(timeoutMs * 0.75);
      expect(node0(second)).toBe('pending');
      // Its grants on nodes 1 and 2 were released again.
      await sleep(50);
      const view = await m.inspect('fan:split');
      expect(view.nodes.slice(1, 3).every((n) => n.holder === undefined)).toBe(true);
    } finally {
      await paused.resume();
      for (const i of [3, 4]) await clients[i]!.del('cxkit:locks:{fan:split}');
    }
  });

  it('a wave node that answers late (a stall, not a pause) still decides the round: a conflict, not a 503', async () => {
    const owner = manager('us-east-1');
    // A quarter of this timeout (250 ms) is how long a silent node is waited for once the vote is split.
    const contender = manager('eu-west-1', { requestTimeoutMs: 1_000 });
    for (const m of [owner, contender])
      await (await m.acquire('fan:stall:warm', { heartbeat: false })).release();
    const lock = await owner.acquire('fan:stall', { heartbeat: false });
    expect(await holding(owner, 'fan:stall', lock.token)).toBe(3);
    // Node 2 of the wave stalls for 50 ms: nodes 0 and 1 conflict, the hedge asks 3 and 4, which grant.
    const stalled = nodes()[2]!;
    await stalled.pause();
    const resumed = sleep(50).then(() => stalled.resume());
    try {
      const err = await contender.acquire('fan:stall', { heartbeat: false }).catch((e: unknown) => e);
      expect(isLockConflictError(err)).toBe(true);
      if (isLockConflictError(err)) {
        expect(err.holder?.token).toBe(lock.token);
        expect(err.nodes.filter((n) => n.outcome === 'conflict')).toHaveLength(3);
      }
    } finally {
      await resumed;
    }
    expect(await lock.release()).toEqual({ released: true });
  });
});
