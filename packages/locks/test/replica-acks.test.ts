import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQuorumUnavailableError, LockManager } from '../src/index.js';
import { client, quit, sleep } from './helpers.js';

// replicaAcks on one master: a write counts once `WAIT` says a replica has it. WAIT blocks the
// connection until it returns, so the writes on one connection share one WAIT in flight.

let nodes: RedisNodes;
const clients: Redis[] = [];

beforeAll(async () => {
  // node 0: a master, node 1: its replica, node 2: a master without replicas.
  nodes = await startRedisNodes(3, { private: true });
  const replica = client(nodes.urls[1]!);
  clients.push(replica);
  await replica.replicaof('127.0.0.1', nodes.nodes[0]!.port);
  await waitUntil('replica in sync', async () =>
    /master_link_status:up/.test(await replica.info('replication')),
  );
});

afterAll(async () => {
  await quit(clients);
  await nodes?.stop();
});

/** Acquisitions of distinct resources started 5 ms apart (calls made in one tick share a script call). */
async function staggered(m: LockManager, prefix: string, n: number): Promise<unknown[]> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(m.acquire(`${prefix}:${i}`).catch((e: unknown) => e));
    await sleep(5);
  }
  return Promise.all(pending);
}

const outcomeOf = (err: unknown) => isQuorumUnavailableError(err) && err.nodes[0]?.outcome;

describe('replicaAcks on one master', () => {
  it('a write acknowledged by the replica counts, and the replica has the record', async () => {
    const m = new LockManager({ nodes: clientOf(0), replicaAcks: 1 });
    try {
      const locks = await staggered(m, 'acked', 8);
      for (const lock of locks) expect(lock).toHaveProperty('fence');
      const replica = clients[0]!;
      for (let i = 0; i < 8; i++) {
        expect((await replica.get(`cxkit:locks:{acked:${i}}`))?.split(' ')[2]).toBe(
          (locks[i] as { token: string }).token,
        );
      }
    } finally {
      await m.close();
    }
  });

  it('with the replica paused, writes fail as replica-acks within about two WAIT timeouts, and a release queued behind them is not reported unreachable', async () => {
    // One WAIT per write, each blocking the connection for its timeout (100-200 ms: Redis checks
    // timeouts when its event loop wakes, at least 10 times a second), would answer the 12th write, and
    // a release sent after it, only after 1.2 s or more: past requestTimeoutMs.
    const m = new LockManager({ nodes: clientOf(0), replicaAcks: 1, replicaAckTimeoutMs: 100 });
    const held = await m.acquire('paused:held', { heartbeat: false });
    await nodes.nodes[1]!.pause();
    try {
      const started = performance.now();
      const attempts = staggered(m, 'paused', 12);
      await sleep(60);
      const released = await held.release();
      const errors = await attempts;
      expect(released).toEqual({ released: true });
      for (const err of errors) expect(outcomeOf(err)).toBe('replica-acks');
      expect(performance.now() - started).toBeLessThan(700);
    } finally {
      await nodes.nodes[1]!.resume();
      await m.close();
    }
  });

  it('a WAIT that ioredis sends again after a reconnect does not count for a write made on the old connection', async () => {
    // The WAIT is sent again on the new connection, where it no longer stands for the write. Redis 7.0
    // answers it by waiting (0 here); a server that answers a connection without writes at once, the
    // paused replica counted, is caught by the connection count (shared-wait.test.ts).
    const m = new LockManager({
      nodes: clientOf(0),
      replicaAcks: 1,
      replicaAckTimeoutMs: 300,
      requestTimeoutMs: 2_000,
    });
    const admin = clientOf(0);
    await (await m.acquire('reconnect:warm', { heartbeat: false })).release();
    await nodes.nodes[1]!.pause();
    try {
      const attempt = m.acquire('reconnect', { heartbeat: false }).catch((e: unknown) => e);
      await sleep(50);
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const err = await attempt;
      expect(outcomeOf(err)).toBe('replica-acks');
    } finally {
      await nodes.nodes[1]!.resume();
      await m.close();
    }
  });

  it('a client with enableAutoPipelining: the WAIT still goes after its write', async () => {
    // An auto-pipelined call leaves on a later tick; a WAIT sent before it would answer at once with
    // the paused replica counted (it acknowledged everything before).
    const auto = new Redis(nodes.urls[0]!, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
    auto.on('error', () => {});
    clients.push(auto);
    const m = new LockManager({ nodes: auto, replicaAcks: 1, replicaAckTimeoutMs: 100 });
    try {
      await (await m.acquire('auto:warm', { heartbeat: false })).release();
      // The replica acknowledges its offset once a second: after that the master knows it has every
      // write so far, so a WAIT that went out before the next write would answer 1 at once.
      await sleep(1_200);
      await nodes.nodes[1]!.pause();
      try {
        const err = await m.acquire('auto', { heartbeat: false }).catch((e: unknown) => e);
        expect(outcomeOf(err)).toBe('replica-acks');
      } finally {
        await nodes.nodes[1]!.resume();
      }
    } finally {
      await m.close();
    }
  });

  it('a connection closed while WAIT blocks is not taken for a server that rejects WAIT', async () => {
    const own = clientOf(0);
    const m = new LockManager({
      nodes: own,
      replicaAcks: 1,
      replicaAckTimeoutMs: 1_000,
      requestTimeoutMs: 3_000,
    });
    const unsupported: unknown[] = [];
    m.on('replica-acks-unsupported', (e) => unsupported.push(e));
    await (await m.acquire('closed:warm', { heartbeat: false })).release();
    await nodes.nodes[1]!.pause();
    try {
      const attempt = m.acquire('closed', { heartbeat: false }).catch((e: unknown) => e);
      await sleep(50);
      own.disconnect();
      const err = await attempt;
      expect(isQuorumUnavailableError(err)).toBe(true);
      expect(outcomeOf(err)).toBe('error');
      expect(unsupported).toEqual([]);
    } finally {
      await nodes.nodes[1]!.resume();
      await m.close();
    }
  });

  it('managers on one client share one ready listener on it, however many there are', async () => {
    const shared = clientOf(0);
    const before = shared.listenerCount('ready');
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const managers = Array.from({ length: 12 }, () => new LockManager({ nodes: shared, replicaAcks: 1 }));
    try {
      for (const [i, m] of managers.entries()) await (await m.acquire(`shared:${i}`)).release();
      expect(shared.listenerCount('ready')).toBeLessThanOrEqual(before + 1);
    } finally {
      await Promise.all(managers.map((m) => m.close()));
      process.off('warning', onWarning);
    }
    expect(shared.listenerCount('ready')).toBeLessThanOrEqual(before + 1);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('a master without replicas: concurrent writes all fail as replica-acks, none as a timeout', async () => {
    const m = new LockManager({ nodes: clientOf(2), replicaAcks: 1, replicaAckTimeoutMs: 100 });
    try {
      const started = performance.now();
      const errors = await staggered(m, 'lonely', 12);
      for (const err of errors) expect(outcomeOf(err)).toBe('replica-acks');
      expect(performance.now() - started).toBeLessThan(700);
    } finally {
      await m.close();
    }
  });
});

function clientOf(index: number): Redis {
  const c = client(nodes.urls[index]!);
  clients.push(c);
  return c;
}
