import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { createPool } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { queueConnection } from '../queue/connection.js';
import { ProvisioningQueue } from '../queue/provisioning-queue.js';
import { runBulkProvisioning } from './job.js';
import { reconcile } from './reconcile.js';

/**
 * `npm run provision -w @cxkit/example-contact-center`: provisions AGENTS agents in batch BATCH_ID and
 * prints a reconciliation report. Safe to kill and run again with the same BATCH_ID.
 */
const env = z
  .object({
    DATABASE_URL: z.url(),
    REDIS_URL: z.url().optional(),
    REDIS_NODES: z.string().optional(),
    CLIENT_CLOUD_URL: z.url(),
    BATCH_ID: z.string().regex(/^[a-z0-9-]{1,40}$/),
    AGENTS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  })
  .parse(process.env);

const redisUrl = env.REDIS_NODES?.split(',')[0]?.trim() || env.REDIS_URL;
if (!redisUrl) throw new TypeError('provision: set REDIS_NODES or REDIS_URL');

const pool = createPool(env.DATABASE_URL, 4, 'contact-center-provisioning');
await migrate(pool);
const queue = new ProvisioningQueue(queueConnection(redisUrl));
const bar = new SingleBar({
  format: `provisioning ${env.BATCH_ID} [{bar}] {percentage}% {value}/{total} agents`,
  noTTYOutput: true,
  // Without a terminal (CI, the demo), one line every 5 s instead of a redrawn bar.
  notTTYSchedule: 5000,
});
bar.start(env.AGENTS, 0);
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
try {
  await runBulkProvisioning({
    db: pool,
    queue,
    batchId: env.BATCH_ID,
    agents: env.AGENTS,
    signal: abort.signal,
    onReenqueue: (count, round) =>
      console.error(`re-enqueued ${count} pending operation(s) with no queued job (round ${round})`),
    onProgress: (c) => {
      bar.setTotal(c.total);
      bar.update(c.done);
    },
  });
} finally {
  bar.stop();
}
const report = await reconcile(pool, env.CLIENT_CLOUD_URL, env.BATCH_ID);
// One machine-readable line for scripts (the demo parses it), after the human-readable bar.
console.log(`RECONCILIATION ${JSON.stringify(report)}`);
await queue.close();
await pool.end();
process.exit(report.pending === 0 && report.missingInCloud === 0 && report.duplicateAgents === 0 ? 0 : 1);
