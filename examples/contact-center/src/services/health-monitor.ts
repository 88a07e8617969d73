import {
  applicationCheck,
  type CheckDefinition,
  HealthMonitor,
  httpLatencyCheck,
  postgresReplicationCheck,
  redisQuorumCheck,
} from '@cxkit/health';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { parsePlatformUrls, type RegionConfig } from '../config.js';

/** The seed's composite health (section 4): application, redis_quorum, database_replication, platform_connectivity. */
export function createHealthMonitor(
  config: RegionConfig,
  redisNodes: Redis[],
  db: pg.Pool,
  logger: Logger,
): HealthMonitor {
  const checks: Record<string, CheckDefinition> = {
    application: applicationCheck({ maxEventLoopDelayMs: config.HEALTH_MAX_EVENT_LOOP_DELAY_MS }),
    redis_quorum: redisQuorumCheck({ nodes: redisNodes }),
    database_replication: postgresReplicationCheck({ db, maxLagMs: config.DB_MAX_LAG_MS }),
  };
  const platforms = parsePlatformUrls(config.PLATFORM_URLS);
  if (Object.keys(platforms).length > 0) {
    checks.platform_connectivity = httpLatencyCheck({ targets: platforms });
  }
  return new HealthMonitor({
    checks,
    intervalMs: config.HEALTH_INTERVAL_MS,
    timeoutMs: config.HEALTH_TIMEOUT_MS,
    recoverAfter: config.HEALTH_RECOVER_AFTER,
    logger,
  });
}
