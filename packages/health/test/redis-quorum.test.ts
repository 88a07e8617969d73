import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisNode, type RedisNodes, startRedisCluster, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, healthHandler, redisQuorumCheck } from '../src/index.js';

function client(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  c.on('error', () => {}); // nodes are killed on purpose
  return c;
}

describe('redisQuorumCheck on independent masters', () => {
  let group: RedisNodes;
  let clients: Redis[];

  beforeAll(async () => {
    group = await startRedisNodes(3, { private: true });
    clients = group.urls.map(client);
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await group.stop();
  });

  it('reports masters, replicas and acks in the seed shape', async () => {
    const monitor = new HealthMonitor({ checks: { redis_quorum: redisQuorumCheck({ nodes: clients }) } });
    const report = await monitor.check();
    expect(report.status).toBe('healthy');
    expect(report.components.redis_quorum).toMatchObject({
      status: 'healthy',
      masters: 3,
      replicas: 0,
      min_replicas_to_write: 0,
      current_replicas_acked: 0,
      quorum: 2,
    });
    await monitor.close();
  });

  it('a SIGSTOPped node times out within timeoutMs, is named in the report, and probes stay fast', async () => {
    const paused = group.nodes[1]!;
    const name = `127.0.0.1:${paused.port}`;
    const timeoutMs = 700;
    const monitor = new HealthMonitor({
      checks: { redis_quorum: redisQuorumCheck({ nodes: clients }) },
      timeoutMs,
      abortGraceMs: 100,
      intervalMs: 60_000,
    });
    await monitor.check();
    const server = createServer(healthHandler(monitor));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const http = {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      stop: () => new Promise((r) => server.close(r)),
    };
    await paused.pause();
    try {
      const started = performance.now();
      const round = monitor.check();
      // While the round waits on the paused node, probes read the last snapshot at once.
      const probeStarted = performance.now();
      const during = monitor.report();
      const probeMs = performance.now() - probeStarted;
      expect(during.status).toBe('healthy');
      expect(probeMs).toBeLessThan(timeoutMs / 2);
      // Over HTTP too: the probe is answered before the round that waits on the paused node ends.
      const first = await Promise.race([
        fetch(`${http.base}/health/ready`).then(
          async (r) => `probe ${r.status} ${((await r.json()) as { status: string }).status}`,
        ),
        round.then(() => 'round'),
      ]);
      expect(first).toBe('probe 200 healthy');
      const report = await round;
      const roundMs = performance.now() - started;
      expect(roundMs).toBeGreaterThanOrEqual(timeoutMs - 20);
      expect(roundMs).toBeLessThan(timeoutMs + 5_000); // generous: the machine is shared
      const component = report.components.redis_quorum!;
      expect(component.status).toBe('unhealthy');
      expect(component.error).toMatch(new RegExp(`${name}.*no answer before the timeout`));
      expect((component.nodes as Record<string, { status: string }>)[name]).toMatchObject({
        status: 'unreachable',
      });
      expect(component.masters).toBe(2);
      expect(report.status).toBe('unhealthy');
      // A second round while still paused does not queue another INFO on the hung connection.
      const again = await monitor.check();
      expect(again.components.redis_quorum!.error).toMatch(name);
    } finally {
      await paused.resume();
    }
    await waitUntil('node answers again', async () => (await paused.command('PING')) === 'PONG');
    const back = await monitor.check();
    expect(back.components.redis_quorum).toMatchObject({ observed_status: 'healthy', masters: 3 });
    expect((await fetch(`${http.base}/health`)).status).toBe(503); // held: 1 of 3 passes
    await http.stop();
    await monitor.close();
  });

  it('a real node paused every other round is not reported healthy before 3 consecutive passes', async () => {
    const node = group.nodes[2]!;
    // The timeout only has to expire on the paused rounds; on the up rounds it must never be reached,
    // so it is generous against a loaded machine (an up round that times out would read as a failure).
    const monitor = new HealthMonitor({
      checks: { redis: redisQuorumCheck({ nodes: clients[2]! }) },
      timeoutMs: 2_000,
      abortGraceMs: 100,
      intervalMs: 60_000,
    });
    // up, down, up, down, up, down, up, up, up
    const script = [true, false, true, false, true, false, true, true, true];
    const seen: string[] = [];
    try {
      for (const up of script) {
        if (up && node.paused) {
          await node.resume();
          // Rounds are driven by hand, and each starts only once its precondition holds: the node
          // answers again (over its own connection, not the one the check uses).
          await waitUntil('resumed node answers', async () => (await node.command('PING')) === 'PONG');
        }
        if (!up && !node.paused) await node.pause();
        const report = await monitor.check();
        const component = report.components.redis!;
        seen.push(`${component.observed_status ?? report.status}->${report.status}`);
        // A paused round fails by the check's timeout. Which node hung is asserted by the test above; here
        // only the round's outcome matters (under a loaded CI machine the per-node detail can be missing).
        if (!up) expect(String(component.error)).toContain('timed out after 2000 ms');
      }
    } finally {
      await node.resume();
    }
    expect(seen).toEqual([
      'healthy->healthy',
      'unhealthy->unhealthy',
      'healthy->unhealthy',
      'unhealthy->unhealthy',
      'healthy->unhealthy',
      'unhealthy->unhealthy',
      'healthy->unhealthy', // pass 1 of 3
      'healthy->unhealthy', // pass 2 of 3
      'healthy->healthy', // pass 3 of 3
    ]);
    await monitor.close();
  });

  it('below quorum is unhealthy, one failing node above quorum is degraded', async () => {
    const victim = await RedisNode.start();
    const extra = [client(victim.url), client(victim.url)];
    // quorum 2 of [good, victim]: victim down -> 1 writable < 2
    const check = redisQuorumCheck({ nodes: [clients[0]!, extra[0]!], quorum: 2 });
    const loose = redisQuorumCheck({ nodes: [clients[0]!, clients[2]!, extra[1]!] });
    await victim.kill();
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 1_500).unref();
    const strict = await check.check(ctl.signal);
    const relaxed = await loose.check(ctl.signal);
    expect(strict.status).toBe('unhealthy');
    expect(relaxed.status).toBe('degraded');
    expect(String(relaxed.error)).toContain(`127.0.0.1:${victim.port}`);
    for (const c of extra) c.disconnect();
    await victim.destroy();
  });

  it('a check whose signal already aborted leaves no unhandled rejection when the hung command fails later', async () => {
    // Vitest fails the run on any unhandled rejection, which is what this test would produce.
    const victim = await RedisNode.start();
    const hung = client(victim.url);
    await hung.ping();
    await victim.pause();
    try {
      const ctl = new AbortController();
      ctl.abort();
      const result = await redisQuorumCheck({ nodes: [hung], quorum: 1 }).check(ctl.signal);
      expect(result.status).toBe('unhealthy');
      expect(String(result.error)).toContain(`127.0.0.1:${victim.port}`);
      // The INFO sent to the paused node now fails with "Connection is closed".
      hung.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await victim.resume();
      await victim.destroy();
    }
  });
});

describe('redisQuorumCheck on configured masters that were demoted', () => {
  it('a node that now answers as a replica is not writable, alone or in a quorum', async () => {
    // Nodes of their own: REPLICAOF would change the shared group's roles for the other tests.
    const group = await startRedisNodes(3, { private: true });
    const clients = group.urls.map(client);
    const [primary, ...demoted] = group.nodes;
    try {
      // What a Sentinel failover the client list did not follow leaves behind: the "masters" still
      // answer INFO, but refuse writes.
      for (const node of demoted) await node.command('REPLICAOF', '127.0.0.1', String(primary!.port));
      await expect(clients[1]!.set('health:demoted', '1')).rejects.toThrow(/READONLY/);
      const monitor = new HealthMonitor({ checks: { redis_quorum: redisQuorumCheck({ nodes: clients }) } });
      const component = (await monitor.check()).components.redis_quorum!;
      expect(component).toMatchObject({ status: 'unhealthy', masters: 1, writable: 1, quorum: 2 });
      for (const node of demoted) {
        const name = `127.0.0.1:${node.port}`;
        expect((component.nodes as Record<string, unknown>)[name]).toMatchObject({
          status: 'not-master',
          role: 'slave',
          replica_of: `127.0.0.1:${primary!.port}`,
        });
        expect(String(component.error)).toContain(`${name}: role slave, not master`);
      }
      await monitor.close();

      const single = await redisQuorumCheck({ nodes: clients[2]! }).check(new AbortController().signal);
      expect(single).toMatchObject({ status: 'unhealthy', masters: 0, writable: 0, quorum: 1 });

      // Promoted back, they count again.
      for (const node of demoted) await node.command('REPLICAOF', 'NO', 'ONE');
      const back = await redisQuorumCheck({ nodes: clients }).check(new AbortController().signal);
      expect(back).toMatchObject({ status: 'healthy', masters: 3, writable: 3 });
    } finally {
      for (const c of clients) c.disconnect();
      await group.stop();
    }
  });
});

describe('redisQuorumCheck with min-replicas-to-write', () => {
  it('counts acked replicas and fails a master that cannot meet min-replicas-to-write', async () => {
    const master = await RedisNode.start({
      args: ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '10'],
    });
    const replica = await RedisNode.start({ replicaOf: { host: '127.0.0.1', port: master.port } });
    const c = client(master.url);
    try {
      const check = redisQuorumCheck({ nodes: c });
      await waitUntil(
        'replica online',
        async () => (await check.check(new AbortController().signal)).status === 'healthy',
        15_000,
      );
      const ok = await check.check(new AbortController().signal);
      expect(ok).toMatchObject({
        masters: 1,
        replicas: 1,
        min_replicas_to_write: 1,
        current_replicas_acked: 1,
      });
      await replica.kill();
      await waitUntil(
        'master notices the replica is gone',
        async () => (await check.check(new AbortController().signal)).status === 'unhealthy',
        30_000,
        200,
      );
      const bad = await check.check(new AbortController().signal);
      expect(bad).toMatchObject({ current_replicas_acked: 0, min_replicas_to_write: 1 });
      expect(String(bad.error)).toContain(`127.0.0.1:${master.port}: 0/1 replicas acked`);
    } finally {
      c.disconnect();
      await replica.destroy();
      await master.destroy();
    }
  });
});

describe('redisQuorumCheck on a Redis Cluster', () => {
  it('reports cluster_state, masters and replicas up, and names a master that stops answering', async () => {
    const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const redis = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    redis.on('error', () => {});
    try {
      await waitUntil(
        'ioredis sees the cluster',
        async () => (await redis.cluster('INFO')).includes('cluster_state:ok'),
        30_000,
      );
      await waitUntil('ioredis knows the masters', async () => redis.nodes('master').length === 3, 30_000);
      // waitHealthy() looks from the replica side (master_link_status:up). The master lists the
      // replica as state=online only after it has processed the replica's first REPLCONF ACK, a
      // moment later (longer under load). The check counts replicas as the master sees them, since
      // only those can acknowledge writes, so wait for every master's own view before measuring.
      const masters = await cluster.masters();
      expect(masters).toHaveLength(3);
      await waitUntil(
        'every master lists its replica online',
        async () => {
          for (const m of masters) {
            const text = await m.command('INFO', 'replication');
            if (!/^slave0:.*state=online/m.test(text)) return false;
            // replicas_known comes from one master's CLUSTER NODES, which learns roles by gossip.
            const nodes = await m.command('CLUSTER', 'NODES');
            if (nodes.split('\n').filter((l) => /^\S+ \S+ \S*(slave|replica)/.test(l)).length !== 3)
              return false;
          }
          return true;
        },
        30_000,
        100,
      );
      const check = redisQuorumCheck({ nodes: redis });
      const ok = await check.check(new AbortController().signal);
      expect(ok).toMatchObject({
        status: 'healthy',
        cluster_state: 'ok',
        masters: 3,
        replicas: 3,
        replicas_known: 3,
      });
      const victim = masters[0]!;
      await victim.pause();
      try {
        const ctl = new AbortController();
        setTimeout(() => ctl.abort(), 700).unref();
        const bad = await check.check(ctl.signal);
        expect(bad.status).toBe('unhealthy');
        expect(String(bad.error)).toContain(`127.0.0.1:${victim.port}`);
      } finally {
        await victim.resume();
      }
    } finally {
      redis.disconnect();
      await cluster.stop();
    }
  });
});
