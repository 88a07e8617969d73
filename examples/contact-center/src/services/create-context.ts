import { CheckpointStore } from '@cxkit/checkpoint';
import { Deduplicator } from '@cxkit/dedup';
import { IdempotencyStore } from '@cxkit/idempotency';
import { LockManager } from '@cxkit/locks';
import { postgresOutboxSource, StateCache } from '@cxkit/state-cache';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RegionConfig } from '../config.js';
import { AGENT_STATE_OUTBOX } from '../db/agent-outbox.js';
import { createPool } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { Authenticator } from '../http/auth.js';
import { queueConnection } from '../queue/connection.js';
import { CrmSyncQueue } from '../queue/crm-sync-queue.js';
import { type AgentState, agentState } from '../schemas/agent-state.js';
import { defaultVariables } from '../schemas/flow-variables.js';
import { checkpointSchemas } from './checkpoint-schemas.js';
import type { RegionContext } from './context.js';
import { createHealthMonitor } from './health-monitor.js';
import { HeldLocks } from './held-locks.js';
import { OverrideLog } from './override-log.js';

export interface RegionResources {
  ctx: RegionContext;
  /** Closes everything in dependency order (locks released first, so other regions need not wait). */
  close(): Promise<void>;
}

/**
 * Connects to Postgres and Redis and builds every cxkit component of one region. All Redis nodes vote
 * on locks; the first one also holds dedup markers, checkpoints, agent state and the queues.
 */
export async function createRegionContext(config: RegionConfig, logger: Logger): Promise<RegionResources> {
  // Closed in reverse order, on shutdown or when start-up fails half-way (no leaked connections).
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => logger.warn({ err }, 'close failed'));
  };
  try {
    return { ctx: await build(config, logger, closers), close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function build(
  config: RegionConfig,
  logger: Logger,
  closers: (() => Promise<unknown>)[],
): Promise<RegionContext> {
  const db = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, `contact-center-${config.REGION}`);
  closers.push(() => db.end());
  await migrate(db);
  const redisNodes = config.redisNodes.map(
    (url) =>
      new Redis(url, {
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        // A node that stops answering with the connection open (a partition, SIGSTOP) would otherwise
        // hold every dedup, checkpoint and agent-state request on it forever.
        commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
        lazyConnect: false,
      }),
  );
  for (const r of redisNodes) {
    r.on('error', () => {}); // reconnects on its own; the health report names the node
    closers.push(async () => r.disconnect());
  }
  const data = redisNodes[0]!;

  const locks = new LockManager({
    nodes: redisNodes.length === 1 ? data : redisNodes,
    region: config.REGION,
    defaultTtlMs: config.LOCK_TTL_MS,
    heartbeatIntervalMs: config.LOCK_HEARTBEAT_MS,
    staleAfterMs: config.LOCK_STALE_AFTER_MS,
    maxTtlMs: config.LOCK_MAX_TTL_MS,
    logger,
  });
  closers.push(() => locks.close());
  const overrides = new OverrideLog(db, (err) => logger.error({ err }, 'lock override audit write failed'));
  locks.on('override', (e) => {
    logger.warn({ resource: e.resource, previous: e.previous, fence: e.fence }, 'stale lock overridden');
    overrides.record(e);
  });

  const idempotency = new IdempotencyStore({
    db,
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    logger,
  });
  closers.push(() => idempotency.close());
  await idempotency.migrate();

  const schemaVersion = config.FLOW_SCHEMA_VERSION as 1 | 2;
  const checkpointOptions = { redis: data, ttlSeconds: config.CHECKPOINT_TTL_SECONDS, logger };
  const checkpoints =
    schemaVersion === 1
      ? new CheckpointStore({ ...checkpointOptions, schema: checkpointSchemas[1] })
      : new CheckpointStore({ ...checkpointOptions, schema: checkpointSchemas[2] });

  const dedup = new Deduplicator({
    redis: data,
    namespace: 'contact-center:webhooks',
    windowMs: config.DEDUP_WINDOW_MS,
    owner: `${config.REGION}:${process.pid}`,
    logger,
  });
  closers.push(() => dedup.close());

  const stateCache = new StateCache<AgentState>({
    redis: data,
    namespace: 'agent-state',
    schema: agentState,
    source: postgresOutboxSource<AgentState>({ db, table: AGENT_STATE_OUTBOX }),
    logger,
  });
  closers.push(() => stateCache.close());
  await stateCache.start();

  const queueRedis = queueConnection(config.redisNodes[0]!, config.REDIS_COMMAND_TIMEOUT_MS);
  closers.push(async () => queueRedis.disconnect());
  const crmSync = new CrmSyncQueue(queueRedis);
  closers.push(() => crmSync.close());
  await crmSync.ready(config.REDIS_COMMAND_TIMEOUT_MS);

  const health = createHealthMonitor(config, redisNodes, db, logger);
  closers.push(() => health.close());
  health.start();

  // Released first on shutdown (closers run in reverse): other regions get the locks at once.
  const heldLocks = new HeldLocks();
  closers.push(() => heldLocks.releaseAll());

  return {
    config,
    region: config.REGION,
    db,
    auth: new Authenticator({
      ...(config.JWT_SECRET ? { secret: config.JWT_SECRET } : {}),
      ...(config.JWKS_URL ? { jwksUrl: config.JWKS_URL } : {}),
      ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
      ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
    }),
    locks,
    heldLocks,
    overrides,
    idempotency,
    checkpoints,
    schemaVersion,
    defaultVariables: defaultVariables[schemaVersion],
    dedup,
    stateCache,
    health,
    crmSync,
  };
}
