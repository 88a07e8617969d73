import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queueConnection } from '../src/queue/connection.js';
import { CrmSyncQueue } from '../src/queue/crm-sync-queue.js';

let redis: RedisNodes;
beforeAll(async () => {
  redis = await startRedisNodes(1, { private: true });
}, 60_000);
afterAll(async () => {
  await redis?.stop();
});

it("ready() waits for BullMQ's start-up commands, so closing the queue and then its connection fails nothing unseen", async () => {
  const node = redis.nodes[0]!;
  const rejections: unknown[] = [];
  const onRejection = (err: unknown) => rejections.push(err);
  process.on('unhandledRejection', onRejection);
  const connection = queueConnection(redis.urls[0]!, 5_000);
  try {
    const queue = new CrmSyncQueue(connection);
    // Stopped as the connection turns ready, before BullMQ sends its start-up INFO.
    connection.once('ready', () => void node.pause());
    let ready = false;
    const readiness = queue.ready(10_000).then(() => {
      ready = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(node.paused).toBe(true);
    expect(ready).toBe(false);
    await node.resume();
    await readiness;
    await queue.close();
    connection.disconnect();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    process.off('unhandledRejection', onRejection);
    if (node.paused) await node.resume();
    connection.disconnect();
  }
  expect(rejections).toEqual([]);
}, 30_000);

it('ready() gives up after its bound while the node does not answer, so a region still starts', async () => {
  const node = redis.nodes[0]!;
  await node.pause();
  const connection = queueConnection(redis.urls[0]!, 5_000);
  try {
    const queue = new CrmSyncQueue(connection);
    const started = performance.now();
    await queue.ready(300);
    expect(performance.now() - started).toBeLessThan(2_000);
    await node.resume();
    await queue.ready(10_000); // answered now: BullMQ finished starting on its own
    await queue.close();
  } finally {
    if (node.paused) await node.resume();
    connection.disconnect();
  }
}, 30_000);
