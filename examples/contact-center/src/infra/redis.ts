import { type RedisNode, startRedisNodes } from '@cxkit/testkit';

export interface DemoRedis {
  urls: string[];
  /** Present when the demo started the servers itself, so it can pause and resume one (step 5). */
  nodes: RedisNode[] | undefined;
  source: 'env' | 'local';
  stop(): Promise<void>;
}

/**
 * Three independent Redis masters: all three vote on locks (majority quorum), the first also holds dedup
 * markers, checkpoints, agent state and the queues. `REDIS_NODES` (3 URLs) or `REDIS_URL` are used when
 * set; otherwise local `redis-server` processes are started on free ports.
 */
export async function demoRedis(): Promise<DemoRedis> {
  const listed = process.env.REDIS_NODES?.split(',').filter(Boolean) ?? [];
  if (listed.length >= 3) {
    return { urls: listed.slice(0, 3), nodes: undefined, source: 'env', stop: async () => {} };
  }
  if (process.env.REDIS_URL) {
    return { urls: [process.env.REDIS_URL], nodes: undefined, source: 'env', stop: async () => {} };
  }
  const started = await startRedisNodes(3, { private: true });
  return { urls: started.urls, nodes: started.nodes, source: 'local', stop: () => started.stop() };
}
