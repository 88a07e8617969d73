import { z } from 'zod';
import { ClientCloudClient } from './client-cloud/client.js';
import { createPool } from './db/client.js';
import { migrate } from './db/migrate.js';
import { queueConnection } from './queue/connection.js';
import { crmSyncWorker } from './workers/crm-sync-worker.js';
import { provisioningWorker } from './workers/provisioning-worker.js';

/**
 * The worker pool: a separate process (a separate Deployment in Kubernetes) that makes every slow call to
 * the client's cloud. The region processes only enqueue.
 */
const env = z
  .object({
    DATABASE_URL: z.url(),
    REDIS_URL: z.url().optional(),
    REDIS_NODES: z.string().optional(),
    CLIENT_CLOUD_URL: z.url(),
    CRM_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(16),
    PROVISIONING_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(32),
  })
  .parse(process.env);

const redisUrl = env.REDIS_NODES?.split(',')[0]?.trim() || env.REDIS_URL;
if (!redisUrl) throw new TypeError('worker: set REDIS_NODES or REDIS_URL');

const pool = createPool(env.DATABASE_URL, 10, 'contact-center-worker');
await migrate(pool);
const cloud = new ClientCloudClient(env.CLIENT_CLOUD_URL);
const workers = [
  crmSyncWorker(queueConnection(redisUrl), pool, cloud, env.CRM_SYNC_CONCURRENCY),
  provisioningWorker(queueConnection(redisUrl), pool, cloud, env.PROVISIONING_CONCURRENCY),
];
for (const w of workers) w.on('error', (err) => console.error(`worker ${w.name}: ${err.message}`));
console.log(JSON.stringify({ msg: 'worker pool ready', queues: workers.map((w) => w.name) }));

async function shutdown(): Promise<void> {
  // close() waits for active jobs; unfinished ones are picked up again after their lock expires.
  await Promise.all(workers.map((w) => w.close()));
  await pool.end();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
