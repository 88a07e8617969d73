import { z } from 'zod';
import { ClientCloudClient } from './client-cloud/client.js';
import { createPool } from './db/client.js';
import { migrate } from './db/migrate.js';
import { queueConnection } from './queue/connection.js';
import { CrmSyncQueue } from './queue/crm-sync-queue.js';
import { resyncUnsyncedNotes } from './workers/crm-resync.js';
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
    /** How often notes not yet synced (job failed for good, or lost) are queued again. */
    CRM_RESYNC_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
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

// A note acknowledged to the platform must reach the CRM even if its job ran out of attempts during a
// long cloud outage: nothing else would send it again.
const resyncQueue = new CrmSyncQueue(queueConnection(redisUrl, 5_000));
await resyncQueue.ready(5_000);
let resyncing = false;
const resync = setInterval(() => {
  if (resyncing) return;
  resyncing = true;
  resyncUnsyncedNotes(pool, resyncQueue, { olderThanMs: env.CRM_RESYNC_INTERVAL_MS })
    .then(({ retried, enqueued }) => {
      if (retried + enqueued > 0)
        console.log(JSON.stringify({ msg: 'crm notes resynced', retried, enqueued }));
    })
    .catch((err: Error) => console.error(`crm resync: ${err.message}`))
    .finally(() => {
      resyncing = false;
    });
}, env.CRM_RESYNC_INTERVAL_MS);
resync.unref();

async function shutdown(): Promise<void> {
  // close() waits for active jobs; unfinished ones are picked up again after their lock expires.
  clearInterval(resync);
  await Promise.all(workers.map((w) => w.close()));
  await resyncQueue.close();
  await pool.end();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
