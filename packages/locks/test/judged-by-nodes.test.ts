import { execFileSync } from 'node:child_process';
import { waitUntil } from '@cxkit/testkit';
import { describe, expect, it, vi } from 'vitest';
import { isLockLostError, type Lock, type LockManagerOptions } from '../src/index.js';
import { scripts } from '../src/scripts.js';
import { client, fiveMasters, quit, sleep } from './helpers.js';

// Validity and trust are judged by what the nodes hold and report: the TTL a round actually wrote,
// and the amnesia marker age by the node's clock, never the client's wall clock.

const base = {
  maxTtlMs: 3_000,
  defaultTtlMs: 2_000,
  heartbeatIntervalMs: 200,
  staleAfterMs: 3_000,
  requestTimeoutMs: 400,
} satisfies Partial<LockManagerOptions>;
const { manager, nodes, clients } = fiveMasters(base, { warm: true });

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* keep the event loop blocked: replies stay unread */
  }
};
const tick = () => new Promise<void>((r) => process.nextTick(r));

describe('judged by the nodes', () => {
  it('a heartbeat that finds the record gone on a majority loses the lock; gone on a minority, it writes it there again', async () => {
    const m = manager('us-east-1', { fanout: 'all' });
    const minority = await m.acquire('judged:gone-minority');
    const majority = await m.acquire('judged:gone-majority');
    // Evicted (or lost in a failover): on 2 of 5 nodes the quorum still proves the lock; on 3 another
    // owner could have held a quorum meanwhile.
    for (const i of [0, 1]) await clients[i]!.del('cxkit:locks:{judged:gone-minority}');
    for (const i of [0, 1, 2]) await clients[i]!.del('cxkit:locks:{judged:gone-majority}');
    await waitUntil('majority lock lost', async () => majority.signal.aborted, 2_000, 20);
    expect(isLockLostError(majority.signal.reason) && majority.signal.reason.reason).toBe('expired');
    await waitUntil(
      'minority records written again',
      async () =>
        (await Promise.all([0, 1].map((i) => clients[i]!.get('cxkit:locks:{judged:gone-minority}')))).every(
          (record) => record?.includes(` ${minority.token} `),
        ),
      2_000,
      20,
    );
    expect(minority.signal.aborted).toBe(false);
    expect(await minority.release()).toEqual({ released: true });
    // The majority lock's records written again were released: the resource is free.
    const next = await m.acquire('judged:gone-majority', { heartbeat: false });
    expect(next.fence).toBeGreaterThan(majority.fence);
    await next.release();
  });

  it('extend(ttl) while an earlier round is in flight: that round counts with the TTL it wrote, not the new one', async () => {
    // The event loop is blocked below while the nodes run R1: R1 must not time out meanwhile, and
    // its TTL leaves room for the blocked time (redis-cli calls are slow on a loaded machine). Its
    // longer maxTtlMs would make the fresh nodes untrusted for 10 s: the guard is not under test here.
    const holder = manager('us-east-1', {
      fanout: 'all',
      requestTimeoutMs: 10_000,
      maxTtlMs: 10_000,
      amnesiaGuard: false,
    });
    const contender = manager('eu-west-1');
    for (const m of [holder, contender])
      await (await m.acquire('ttl:race:warm', { heartbeat: false })).release();
    const admins = nodes().map((n) => client(n.url));
    await Promise.all(admins.map((a) => a.ping()));
    try {
      const lock = await holder.acquire('ttl:race', { ttlMs: 2_000, heartbeat: false });
      // Loads the heartbeat script on every node (no NOSCRIPT retry below). The extension is decided at
      // a quorum, so the slower nodes may still be loading it: wait until all have it.
      await lock.extend();
      await waitUntil('the heartbeat script on every node', async () =>
        (await Promise.all(admins.map((a) => a.script('EXISTS', scripts.heartbeat.sha)))).every(
          (r) => (r as number[])[0] === 1,
        ),
      );
      const key = 'cxkit:locks:{ttl:race}';
      const cli = (port: number, ...args: string[]) =>
        execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();
      const ports = nodes().map((n) => n.port);
      const before = ports.map((p) => cli(p, 'GET', key));
      // R1: a plain extension with the lock's ttl (2 s); e.g. the heartbeat tick.
      const p1 = lock.extend();
      await tick(); // R1 is written
      // Synchronously (the event loop stays blocked, R1's replies stay unread): wait until every node ran R1.
      for (let i = 0; i < 5; i++) {
        const deadline = performance.now() + 2_000;
        while (cli(ports[i]!, 'GET', key) === before[i] && performance.now() < deadline) busy(5);
      }
      // From now on the nodes refuse writes (a transient failure: lost replica, OOM, failover...).
      for (const p of ports) cli(p, 'CONFIG', 'SET', 'min-replicas-to-write', '1');
      // R2: the caller asks for a longer TTL while R1's replies are still unread.
      const p2 = lock.extend(10_000).catch((e: unknown) => e);
      await p1;
      // The longer TTL never reached the nodes.
      expect(await p2).toBeInstanceOf(Error);
      for (const a of admins) await a.config('SET', 'min-replicas-to-write', '0');
      // The records carry R1's 2 s TTL: wait past it (well before the 10 s asked for).
      await sleep(2_200);
      const heldByHolder = !lock.signal.aborted && lock.validUntil > Date.now();
      const second: Lock | Error = await contender
        .acquire('ttl:race', { heartbeat: false })
        .catch((e: unknown) => e as Error);
      const granted = !(second instanceof Error);
      if (granted) await (second as Lock).release();
      await lock.release();
      // The holder's validity ended with the 2 s its records carried.
      expect(heldByHolder).toBe(false);
      expect(heldByHolder && granted).toBe(false);
    } finally {
      for (const a of admins) await a.config('SET', 'min-replicas-to-write', '0').catch(() => {});
      await quit(admins);
    }
  });

  it('a forward step of the client wall clock does not make a recovering node vote early', async () => {
    const holder = manager('us-east-1');
    const second = manager('eu-west-1');
    for (const m of [holder, second])
      await (await m.acquire('clock:step:warm', { heartbeat: false })).release();
    const lock = await holder.acquire('clock:step', { ttlMs: 3_000, heartbeat: false });
    const view = await holder.inspect('clock:step');
    // Two of the nodes holding the holder's record restart (its first wave is usually nodes 0-2; a
    // node that lagged on a loaded machine is left out of it).
    const holding = view.nodes.flatMap((n, i) => (n.holder?.token === lock.token ? [i] : []));
    expect(holding.length).toBeGreaterThanOrEqual(3);
    const [n0, n1] = holding.slice(0, 2).map((i) => nodes()[i]);
    await n0!.kill();
    await n1!.kill();
    await n0!.restart();
    await n1!.restart();
    // The second manager sees the restarted nodes (new markers): they are recovering.
    await waitUntil(
      'restarted nodes seen as recovering',
      async () =>
        (await second.inspect('clock:step')).nodes.filter((n) => n.reachable && !n.trusted).length === 2,
      5_000,
      50,
    );
    // Guard works: the restarted nodes are recovering, the attempt fails.
    const first = await second.acquire('clock:step', { heartbeat: false }).catch((e: unknown) => e as Error);
    await sleep(200); // its cleanup (a NOSCRIPT retry on the restarted nodes) lands
    // The client's wall clock is stepped forward (NTP correction, VM resume); nothing else changes.
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000);
    let again: Lock | Error;
    try {
      again = await second.acquire('clock:step', { heartbeat: false }).catch((e: unknown) => e as Error);
    } finally {
      spy.mockRestore();
    }
    const granted = !(again instanceof Error);
    const heldByHolder = !lock.signal.aborted;
    if (granted) await (again as Lock).release();
    await lock.release();
    expect(first).toBeInstanceOf(Error);
    expect(heldByHolder && granted).toBe(false);
  });
});
