import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisNode, type RedisNodes, startRedisNodes } from '../src/index.js';

describe('startRedisNodes', () => {
  let group: RedisNodes;
  beforeAll(async () => {
    group = await startRedisNodes(5, { private: true });
  });
  afterAll(() => group?.stop());

  it('starts 5 independent masters on distinct ports that answer PING', async () => {
    expect(new Set(group.nodes.map((n) => n.port)).size).toBe(5);
    for (const node of group.nodes) {
      const client = new Redis(node.port, { lazyConnect: true });
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.info('replication')).toContain('role:master');
      client.disconnect();
    }
  });

  it('pause() stops answers within the client timeout and resume() brings them back', async () => {
    const node = group.nodes[1]!;
    const client = new Redis(node.port, { commandTimeout: 300, maxRetriesPerRequest: 0 });
    expect(await client.ping()).toBe('PONG');
    await node.pause();
    const started = performance.now();
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    expect(performance.now() - started).toBeLessThan(1500);
    await node.resume();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('kill() + restart() comes back on the same port, empty without persistence', async () => {
    const node = group.nodes[2]!;
    const port = node.port;
    const before = node.pid;
    await node.command('SET', 'k', 'v');
    await node.kill();
    expect(node.running).toBe(false);
    await expect(node.command('PING')).rejects.toThrow();
    await node.restart();
    expect(node.port).toBe(port);
    expect(node.pid).not.toBe(before);
    expect(await node.command('PING')).toBe('PONG');
    expect(await node.command('EXISTS', 'k')).toBe('0');
  });
});

describe('persistence', () => {
  it('keeps data across stop()+restart() with appendfsync always', async () => {
    await using group = await startRedisNodes(1, { private: true, persistence: 'aof-always' });
    const node = group.nodes[0]!;
    await node.command('SET', 'durable', 'yes');
    await node.kill();
    await node.restart();
    expect(await node.command('GET', 'durable')).toBe('yes');
  });

  it('a start on a port another server holds fails at once instead of handing out that server', async () => {
    const taken = await RedisNode.start();
    try {
      const started = Date.now();
      await expect(RedisNode.start({ port: taken.port })).rejects.toThrow(
        /served by another process|exited during start/,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await taken.destroy();
    }
  });
});
