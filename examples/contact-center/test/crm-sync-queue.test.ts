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
    const readiness = queue.ready().then(() => {
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
