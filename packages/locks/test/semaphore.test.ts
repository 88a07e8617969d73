import { freePort, startLostReplyProxy, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  isLockConflictError,
  isLockLostError,
  isQuorumUnavailableError,
  type Lock,
  type LockEvents,
  LockManager,
} from '../src/index.js';
import { oneMaster, sleep } from './helpers.js';

const env = oneMaster(600);

describe('Semaphore', () => {
  it('grants at most `limit` permits, with strictly increasing fences, and hands a permit over on release', async () => {
    const agents = env.manager.semaphore('agents', { limit: 3 });
    const permits = await Promise.all([agents.acquire(), agents.acquire(), agents.acquire()]);
    const fences = permits.map((p) => p.fence).sort((a, b) => a - b);
    expect(new Set(fences).size).toBe(3);
    // The counter starts at the node's second x 10^6 and expires like a lock record (key life + retention).
    const [seconds] = await env.clients[1]!.time();
    expect(fences[0]! % 1_000_000).toBe(0);
    expect(fences[0]!).toBeLessThanOrEqual(Number(seconds) * 1_000_000);
    expect(fences[0]!).toBeGreaterThan(Number(seconds) * 1_000_000 - 5_000_000);
    const counterTtl = await env.clients[1]!.pttl('cxkit:locks:sem:{agents}:fence');
    expect(counterTtl).toBeGreaterThan(600_000);
    expect(counterTtl).toBeLessThanOrEqual(600_000 + 2 * 60_000);
    const err = await agents.acquire({ correlationId: 'fourth' }).catch((e: unknown) => e);
    expect(isLockConflictError(err)).toBe(true);
    expect(isLockConflictError(err) && err.holder?.region).toBe('us-east-1');
    const waiting = agents.acquire({ waitMs: 5_000 });
    await sleep(200);
    await permits[0]!.release();
    const fourth = await waiting;
    expect(fourth.fence).toBeGreaterThan(fences[2]!);
    await Promise.all([...permits.slice(1), fourth].map((p) => p.release()));
  });

  it('never exceeds the limit under contention, heartbeats keep permits past their TTL', async () => {
    const pool = env.manager.semaphore('pool', { limit: 2 });
    let inside = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        pool.withPermit(
          async (permit) => {
            inside++;
            peak = Math.max(peak, inside);
            await sleep(500); // longer than the 300 ms TTL: heartbeats keep the permit
            inside--;
            expect(permit.signal.aborted).toBe(false);
          },
          { ttlMs: 300, waitMs: 10_000 },
        ),
      ),
    );
    expect(peak).toBe(2);
  });

  it('reclaims the permit of a holder that stopped heartbeating, with an override event', async () => {
    const crashed = new LockManager({
      nodes: env.clients[1]!,
      region: 'eu-west-1',
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
    });
    const slots = crashed.semaphore('slots', { limit: 1 });
    const dead: Lock = await slots.acquire({ heartbeat: false, ttlMs: 5_000, correlationId: 'dead-pod' });
    const overrides: LockEvents['override'][] = [];
    env.manager.on('override', (e) => overrides.push(e));
    const started = performance.now();
    const mine = await env.manager.semaphore('slots', { limit: 1 }).acquire({ waitMs: 5_000 });
    expect(performance.now() - started).toBeGreaterThan(300);
    expect(mine.fence).toBeGreaterThan(dead.fence);
    expect(overrides.at(-1)?.previous).toMatchObject({
      token: dead.token,
      correlationId: 'dead-pod',
      region: 'eu-west-1',
    });
    // The audit entry names the threshold the permit passed: its validity, min(ttl, staleAfterMs).
    const [entry] = await env.clients[1]!.xrevrange('cxkit:locks:sem:{slots}:audit', '+', '-', 'COUNT', 1);
    const fields = entry![1] as string[];
    expect(fields[fields.indexOf('prevToken') + 1]).toBe(dead.token);
    expect(fields[fields.indexOf('staleAfterMs') + 1]).toBe('600');
    // ...and the permit that replaced it, with the fence its writes carry (as a lock override's does).
    expect(fields[fields.indexOf('token') + 1]).toBe(mine.token);
    expect(fields[fields.indexOf('fence') + 1]).toBe(String(mine.fence));
    // The semaphore's own audit stream expires auditRetentionMs (7 days) after its last entry.
    const auditTtl = await env.clients[1]!.pttl('cxkit:locks:sem:{slots}:audit');
    expect(auditTtl).toBeGreaterThan(604_800_000 - 60_000);
    expect(auditTtl).toBeLessThanOrEqual(604_800_000);
    expect(await dead.release()).toEqual({ released: false, reason: 'expired' });
    await mine.release();
    await crashed.close();
  });

  it('a reclaim that still finds every permit held (a manager with a lower limit) is audited with fence 0', async () => {
    const crashed = new LockManager({ nodes: env.clients[1]!, heartbeatIntervalMs: 100, staleAfterMs: 600 });
    const wide = crashed.semaphore('narrowed', { limit: 2 });
    const dead = await wide.acquire({ heartbeat: false, ttlMs: 5_000 });
    const live = await env.manager.semaphore('narrowed', { limit: 2 }).acquire();
    await sleep(700);
    // Limit 1: reclaiming the dead permit still leaves the live one, so nothing is granted.
    const narrow = env.manager.semaphore('narrowed', { limit: 1 });
    const refused = await narrow.acquire().catch((e: unknown) => e);
    expect(isLockConflictError(refused)).toBe(true);
    const [entry] = await env.clients[1]!.xrevrange('cxkit:locks:sem:{narrowed}:audit', '+', '-', 'COUNT', 1);
    const fields = entry![1] as string[];
    expect(fields[fields.indexOf('prevToken') + 1]).toBe(dead.token);
    expect(fields[fields.indexOf('fence') + 1]).toBe('0');
    await live.release();
    await crashed.close();
  });

  it("reports a permit's validity after extend(ttlMs), and reads a permit of an older layout by its token", async () => {
    const desks = env.manager.semaphore('desks', { limit: 1 });
    const permit = await desks.acquire({ ttlMs: 800, heartbeat: false });
    await permit.extend(500);
    const busy = await desks.acquire().catch((e: unknown) => e);
    expect(isLockConflictError(busy) && busy.holder?.staleAfterMs).toBe(500);
    await permit.release();
    // A live permit written by an older layout (no stale-after field): a conflict naming its token.
    const k = { holders: 'cxkit:locks:sem:{desks}:holders', records: 'cxkit:locks:sem:{desks}:records' };
    const [seconds] = await env.clients[1]!.time();
    const now = Number(seconds) * 1000;
    await env.clients[1]!.zadd(k.holders, now + 2_000, 'tok-v5');
    await env.clients[1]!.hset(k.records, 'tok-v5', `tok-v5 7 ${now} ${now} 9 5 3 us-east-1WRITEcid`);
    const old = await desks.acquire().catch((e: unknown) => e);
    expect(isLockConflictError(old) && old.holder?.token).toBe('tok-v5');
    // Once it expires it is reclaimed like any other, with an override event naming it.
    const overrides: LockEvents['override'][] = [];
    const off = env.manager.on('override', (e) => overrides.push(e));
    const mine = await desks.acquire({ waitMs: 6_000 });
    expect(overrides.map((o) => o.previous.token)).toEqual(['tok-v5']);
    off();
    await mine.release();
  });

  it('extend() of a permit the node no longer holds rejects with LockLostError and aborts its signal', async () => {
    const seats = env.manager.semaphore('seats', { limit: 1 });
    const permit = await seats.acquire({ heartbeat: false, ttlMs: 5_000 });
    // The node lost the permit (a restart without persistence) and another holder took the only one.
    await env.clients[1]!.zrem('cxkit:locks:sem:{seats}:holders', permit.token);
    const other = await seats.acquire({ heartbeat: false, ttlMs: 5_000 });
    const err = await permit.extend().catch((e: unknown) => e);
    expect(isLockLostError(err) && err.reason).toBe('taken-over');
    expect(permit.signal.aborted).toBe(true);
    await other.release();
  });

  it('a permit that vanished (eviction, a failover) is lost at its next heartbeat, not re-claimed, and its slot given back', async () => {
    const lanes = env.manager.semaphore('vanish', { limit: 1 });
    const permit = await lanes.acquire();
    // Another holder may have had the slot meanwhile: the heartbeat cannot prove this one kept it.
    await env.clients[1]!.zrem('cxkit:locks:sem:{vanish}:holders', permit.token);
    await env.clients[1]!.hdel('cxkit:locks:sem:{vanish}:records', permit.token);
    await waitUntil('permit lost', async () => permit.signal.aborted, 3_000, 20);
    expect(isLockLostError(permit.signal.reason) && permit.signal.reason.reason).toBe('expired');
    await waitUntil(
      'slot given back',
      async () => (await env.clients[1]!.zcard('cxkit:locks:sem:{vanish}:holders')) === 0,
      2_000,
      20,
    );
  });

  it('a permit whose grant reply was lost (ioredis re-sends the call) is granted once, not a conflict with itself', async () => {
    const proxy = await startLostReplyProxy(Number(new URL(env.redis.urls[0]!).port));
    // ioredis defaults: after the reconnect it re-sends the commands left unanswered.
    const viaProxy = new Redis(proxy.url);
    const m = new LockManager({
      nodes: viaProxy,
      region: 'us-east-1',
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
    });
    try {
      const lanes = m.semaphore('lanes', { limit: 1 });
      await (await lanes.acquire({ heartbeat: false })).release(); // the script is loaded: one EVALSHA below
      proxy.loseNextReply();
      const permit = await lanes.acquire({ heartbeat: false });
      expect(await env.clients[1]!.zrange('cxkit:locks:sem:{lanes}:holders', 0, -1)).toEqual([permit.token]);
      const record = await env.clients[1]!.hget('cxkit:locks:sem:{lanes}:records', permit.token);
      expect(record?.split(' ')[1]).toBe(String(permit.fence));
      expect(await permit.release()).toEqual({ released: true });
    } finally {
      await m.close();
      viaProxy.disconnect();
      await proxy.close();
    }
  });

  it('extend() that the node does not answer rejects with QuorumUnavailableError naming the timeout', async () => {
    const m = new LockManager({ nodes: env.clients[1]!, requestTimeoutMs: 300 });
    const permit = await m.semaphore('bays', { limit: 1 }).acquire({ heartbeat: false, ttlMs: 5_000 });
    const node = env.redis.nodes[0]!;
    await node.pause();
    let err: unknown;
    try {
      err = await permit.extend().catch((e: unknown) => e);
    } finally {
      await node.resume();
    }
    expect(isQuorumUnavailableError(err)).toBe(true);
    expect(isQuorumUnavailableError(err) && err.nodes[0]?.outcome).toBe('timeout');
    expect(isQuorumUnavailableError(err) && err.nodes[0]?.error).toBeInstanceOf(Error);
    expect(permit.signal.aborted).toBe(false);
    await permit.release();
    await m.close();
  });

  it('a permit granted after its validity has passed is given back instead of handed out', async () => {
    const pumps = env.manager.semaphore('pumps', { limit: 1 });
    await (await pumps.acquire({ heartbeat: false, ttlMs: 1_000 })).release();
    const node = env.redis.nodes[0]!;
    await node.pause();
    // Valid for 300 ms less drift; the node answers after 500 ms (within requestTimeoutMs).
    const late = pumps.acquire({ heartbeat: false, ttlMs: 300 }).then(
      (p) => ({ aborted: p.signal.aborted, p }),
      (e: unknown) => e,
    );
    await sleep(500);
    await node.resume();
    const result = await late;
    expect(isQuorumUnavailableError(result)).toBe(true);
    await sleep(100);
    expect(await env.clients[1]!.zcard('cxkit:locks:sem:{pumps}:holders')).toBe(0);
  });

  it('is refused on a quorum of masters and with a bad limit', async () => {
    expect(() => env.manager.semaphore('x', { limit: 0 })).toThrow(ConfigError);
    expect(() => env.manager.semaphore('', { limit: 1 })).toThrow(ConfigError);
    // Three distinct servers (two of them never answer: the refusal needs no call).
    const others = [await freePort(), await freePort()].map((port) => {
      const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
      c.on('error', () => {});
      return c;
    });
    const quorum = new LockManager({ nodes: [env.clients[0]!, ...others] });
    try {
      expect(() => quorum.semaphore('x', { limit: 2 })).toThrow(/quorum/);
    } finally {
      await quorum.close();
      for (const c of others) c.disconnect();
    }
  });
});

describe('elect', () => {
  it('elects one leader, demotes it through the lost signal, and elects the other', async () => {
    const a = new LockManager({
      nodes: env.clients[0]!,
      region: 'us-east-1',
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
    });
    const b = new LockManager({
      nodes: env.clients[1]!,
      region: 'eu-west-1',
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
    });
    const log: string[] = [];
    const ea = a.elect('primary-region', {
      onElected: () => void log.push('a elected'),
      onDemoted: () => void log.push('a demoted'),
      ttlMs: 1_000,
    });
    await sleep(300);
    const eb = b.elect('primary-region', {
      onElected: () => void log.push('b elected'),
      onDemoted: () => void log.push('b demoted'),
      ttlMs: 1_000,
    });
    await sleep(300);
    expect(ea.isLeader).toBe(true);
    expect(eb.isLeader).toBe(false);
    // Somebody else takes the record: a's next heartbeat sees it, a is demoted; b gets elected later.
    const key = 'cxkit:locks:{elect:primary-region}';
    // Same record with another token, expiring 300 ms from now.
    const [, hw, , ...rest] = (await env.clients[1]!.get(key))!.split(' ');
    await env.clients[1]!.set(key, [Date.now() + 300, hw, 'intruder', ...rest].join(' '));
    await sleep(1_500);
    // a learned it lost leadership; then exactly one of the two leads again (either may win the new round).
    expect(log.slice(0, 2)).toEqual(['a elected', 'a demoted']);
    expect([ea.isLeader, eb.isLeader].filter(Boolean)).toHaveLength(1);
    const leader = ea.isLeader ? ea : eb;
    const who = ea.isLeader ? 'a' : 'b';
    expect(log[2]).toBe(`${who} elected`);
    await leader.stop();
    expect(log.at(-1)).toBe(`${who} demoted`);
    await eb.stop();
    await ea.stop();
    await a.close();
    await b.close();
  });

  it('stop() ends a term whose onElected leads until lock.signal aborts', async () => {
    const m = new LockManager({ nodes: env.clients[0]!, heartbeatIntervalMs: 100, staleAfterMs: 600 });
    const log: string[] = [];
    const election = m.elect('until-stopped', {
      // Leads for as long as it holds leadership, as a leader loop would.
      onElected: async (lock) => {
        log.push('elected');
        await new Promise((resolve) => lock.signal.addEventListener('abort', resolve, { once: true }));
        log.push('signal aborted');
      },
      onDemoted: () => void log.push('demoted'),
      ttlMs: 1_000,
    });
    await waitUntil('leader', async () => election.isLeader, 2_000, 20);
    const stopped = await Promise.race([election.stop().then(() => true), sleep(2_000).then(() => false)]);
    expect(stopped).toBe(true);
    expect(log).toEqual(['elected', 'signal aborted', 'demoted']);
    expect(election.isLeader).toBe(false);
    expect((await m.inspect('elect:until-stopped')).holder).toBeUndefined();
    await m.close();
  });

  it('calls onDemoted as soon as the lock is lost, not after its release has timed out', async () => {
    const m = new LockManager({
      nodes: env.clients[1]!,
      region: 'us-east-1',
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
      requestTimeoutMs: 1_500,
    });
    let lostAt = 0;
    let demotedAt = 0;
    const election = m.elect('dialer', {
      onElected: (lock) => {
        lock.signal.addEventListener('abort', () => {
          lostAt = performance.now();
        });
      },
      onDemoted: () => {
        demotedAt = performance.now();
      },
      ttlMs: 1_000,
    });
    const node = env.redis.nodes[0]!;
    try {
      await sleep(300);
      expect(election.isLeader).toBe(true);
      // The node stops answering: heartbeats miss, the signal aborts before validity ends, and the
      // release that follows waits requestTimeoutMs for the silent node.
      await node.pause();
      await sleep(1_200);
      expect(lostAt).toBeGreaterThan(0);
      expect(election.isLeader).toBe(false);
      expect(demotedAt).toBeGreaterThan(0);
      expect(demotedAt - lostAt).toBeLessThan(200);
    } finally {
      await node.resume();
      await election.stop();
      await m.close();
    }
  });

  it('stop() while a campaign round is in flight: a grant that lands after it is released, never elected', async () => {
    const log: string[] = [];
    const election = env.manager.elect('late-grant', {
      onElected: () => void log.push('elected'),
      onDemoted: () => void log.push('demoted'),
    });
    await election.stop(); // the first round's attempt is already on its way
    expect(log).toEqual([]);
    expect(election.isLeader).toBe(false);
    expect((await env.manager.inspect('elect:late-grant')).holder).toBeUndefined();
  });
});
