import { describe, expect, it } from 'vitest';
import { isLockLostError, isQuorumUnavailableError, type LockManagerOptions } from '../src/index.js';
import { fiveMasters, sleep } from './helpers.js';

const base = {
  maxTtlMs: 2_000,
  defaultTtlMs: 1_500,
  heartbeatIntervalMs: 200,
  staleAfterMs: 1_000,
  requestTimeoutMs: 300,
} satisfies Partial<LockManagerOptions>;
const { manager, clients, nodes } = fiveMasters(base, { warm: true });

describe('LockManager over 5 independent masters', () => {
  it('grants at the quorum-th reply and records the holder on a majority', async () => {
    const a = manager('eu-west-1');
    const lock = await a.acquire('q:basic', { operation: 'AGENT_ASSIGN' });
    const view = await a.inspect('q:basic');
    expect(view.holder?.token).toBe(lock.token);
    expect(view.nodes.filter((n) => n.holder?.token === lock.token).length).toBeGreaterThanOrEqual(3);
    expect(view.nodes.every((n) => n.trusted && n.reachable)).toBe(true);
    expect(await lock.release()).toEqual({ released: true });
  });

  it('fence stays strictly increasing when the next quorum does not overlap the max counter (raise round)', async () => {
    const a = manager('us-east-1');
    // A released record whose high-water fence is an hour ahead of the nodes' clocks, on two nodes only.
    const [seconds] = await clients[0]!.time();
    const hw = Number(seconds) * 1_000_000 + 3_600_000_000;
    const key = 'cxkit:locks:{q:fence}';
    await Promise.all([clients[0]!.set(key, `0 ${hw}`), clients[1]!.set(key, `0 ${hw}`)]);
    const [n0, n1, , n3, n4] = nodes();
    await n3!.pause();
    await n4!.pause();
    let first: Awaited<ReturnType<typeof a.acquire>>;
    try {
      first = await a.acquire('q:fence', { heartbeat: false });
    } finally {
      await n3!.resume();
      await n4!.resume();
    }
    expect(first.fence).toBe(hw + 1);
    await first.release();
    await n0!.pause();
    await n1!.pause();
    try {
      // Only node 2 of this quorum saw fence hw + 1, and only because the raise round put it there.
      const second = await a.acquire('q:fence', { heartbeat: false });
      expect(second.fence).toBe(hw + 2);
      await second.release();
    } finally {
      await n0!.resume();
      await n1!.resume();
    }
  });

  it("a heartbeat lifts the nodes whose own grant was lower (no raise round reached them) to the lock's fence", async () => {
    const a = manager('us-east-1');
    // Three nodes (a quorum) carry a high-water fence an hour ahead: the grant's fence comes from them,
    // so no raise round runs, and the other two hold the lock under their own, lower, clock fence.
    const [seconds] = await clients[0]!.time();
    const hw = Number(seconds) * 1_000_000 + 3_600_000_000;
    const key = 'cxkit:locks:{q:lift}';
    await Promise.all([0, 1, 2].map((i) => clients[i]!.set(key, `0 ${hw}`)));
    // Nodes 3 and 4 answer only after the round is decided, so they cannot trigger a raise round.
    const [, , , n3, n4] = nodes();
    await Promise.all([n3!.pause(), n4!.pause()]);
    let lock: Awaited<ReturnType<typeof a.acquire>>;
    try {
      lock = await a.acquire('q:lift');
    } finally {
      await Promise.all([n3!.resume(), n4!.resume()]);
    }
    expect(lock.fence).toBe(hw + 1);
    await sleep(600);
    for (const i of [3, 4]) {
      const fields = (await clients[i]!.get(key))!.split(' ');
      expect(fields.slice(1, 4)).toEqual([String(hw + 1), lock.token, String(hw + 1)]);
    }
    expect(await lock.release()).toEqual({ released: true });
  });

  it('a paused minority does not hold up heartbeats: a lock outlives a requestTimeoutMs longer than its validity', async () => {
    // Validity 1 s less drift; each heartbeat round would wait 1.5 s for the paused node.
    const m = manager('us-east-1', { requestTimeoutMs: 1_500 });
    const lock = await m.acquire('q:minority-paused', { ttlMs: 1_500 });
    const paused = nodes()[4]!;
    await paused.pause();
    try {
      await sleep(2_500);
      expect(lock.signal.aborted).toBe(false);
      expect(lock.validUntil).toBeGreaterThan(Date.now());
    } finally {
      await paused.resume();
    }
    expect(await lock.release()).toEqual({ released: true });
  });

  it('majority lost (3 of 5 paused): acquire fails fast with QuorumUnavailableError; the holder signal aborts before validity ends', async () => {
    const holderManager = manager('us-east-1');
    const contender = manager('eu-west-1');
    const lock = await holderManager.acquire('q:majority');
    let lastValidUntil = lock.validUntil;
    holderManager.on('extended', (e) => {
      if (e.token === lock.token) lastValidUntil = e.validUntil;
    });
    const aborted = new Promise<number>((resolve) =>
      lock.signal.addEventListener('abort', () => resolve(Date.now())),
    );
    const lost: string[] = [];
    holderManager.on('lost', (e) => lost.push(e.reason));
    const missed: number[] = [];
    holderManager.on('extend-failed', (e) => missed.push(e.nodes.length));
    await sleep(300);
    const paused = nodes().slice(0, 3);
    await Promise.all(paused.map((n) => n.pause()));
    try {
      const started = performance.now();
      const err = await contender.acquire('q:majority').catch((e: unknown) => e);
      const took = performance.now() - started;
      expect(isQuorumUnavailableError(err)).toBe(true);
      if (isQuorumUnavailableError(err)) {
        expect(err.status).toBe(503);
        expect(err.nodes.filter((n) => n.outcome === 'timeout' || n.outcome === 'pending').length).toBe(3);
      }
      expect(took).toBeLessThan(3_000);
      const abortedAt = await aborted;
      expect(abortedAt).toBeLessThan(lastValidUntil);
      expect(isLockLostError(lock.signal.reason)).toBe(true);
      expect((lock.signal.reason as { reason: string }).reason).toBe('expired');
      expect(lost).toEqual(['expired']);
      expect(missed.length).toBeGreaterThan(0);
    } finally {
      await Promise.all(paused.map((n) => n.resume()));
    }
    const result = await lock.release();
    expect(result.released).toBe(false);
    const again = await contender.acquire('q:majority', { waitMs: 5_000 });
    expect(again.fence).toBeGreaterThan(lock.fence);
    await again.release();
  });
});
