import { randomBytes } from 'node:crypto';
import {
  type PostgresHandle,
  type RedisNodes,
  startPostgres,
  startRedisNodes,
  waitUntil,
} from '@cxkit/testkit';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { issueToken } from '../../src/http/tokens.js';
import { createRegionContext, type RegionResources } from '../../src/services/create-context.js';

export interface TestRegion {
  app: FastifyInstance;
  resources: RegionResources;
  secret: string;
  token: string;
  redis: RedisNodes;
  pg: PostgresHandle;
  stop(): Promise<void>;
}

/**
 * One region in this process (for `inject()`), over real Redis nodes and a throwaway database; pass
 * `servers` to start another region on the same ones (it does not stop them).
 */
export async function startTestRegion(
  env: Record<string, string> = {},
  servers?: { redis: RedisNodes; pg: PostgresHandle; secret: string },
): Promise<TestRegion> {
  const redis = servers?.redis ?? (await startRedisNodes(3, { private: true }));
  const pg = servers?.pg ?? (await startPostgres());
  const secret = servers?.secret ?? randomBytes(32).toString('hex');
  const config = loadConfig({
    REGION: 'us-east-1',
    DATABASE_URL: pg.url,
    REDIS_NODES: redis.urls.join(','),
    JWT_SECRET: secret,
    LOCK_MAX_TTL_MS: '5000',
    LOCK_TTL_MS: '5000',
    LOCK_HEARTBEAT_MS: '500',
    LOCK_STALE_AFTER_MS: '1500',
    BODY_LIMIT_BYTES: '16384',
    HEALTH_INTERVAL_MS: '500',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const resources = await createRegionContext(config, pino({ level: 'silent' }));
  const app = await buildApp(resources.ctx, pino({ level: 'silent' }));
  await app.ready();
  const token = await issueToken(secret, [
    'session:read',
    'session:write',
    'webhooks:deliver',
    'agents:read',
  ]);
  return {
    app,
    resources,
    secret,
    token,
    redis,
    pg,
    stop: async () => {
      await app.close();
      await resources.close();
      if (servers) return;
      await redis.stop();
      await pg.stop();
    },
  };
}

/** Fresh lock nodes join the quorum after the amnesia guard window (LOCK_MAX_TTL_MS). */
export async function waitForLockQuorum(region: TestRegion): Promise<void> {
  await waitUntil(
    'lock quorum',
    async () => {
      try {
        const lock = await region.resources.ctx.locks.acquire('warmup', { ttlMs: 1000 });
        await lock.release();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    200,
  );
}

/**
 * Starts one region (and its servers) before the tests of the calling file, handing it to `ready`, and
 * stops it after them; with `lockQuorum`, first waits until its lock nodes vote.
 */
export function regionPerFile(
  ready: (region: TestRegion) => void,
  options: { lockQuorum?: boolean } = {},
): void {
  let region: TestRegion | undefined;
  beforeAll(async () => {
    region = await startTestRegion();
    if (options.lockQuorum) await waitForLockQuorum(region);
    ready(region);
  }, 120_000);
  afterAll(async () => {
    await region?.stop();
  }, 60_000);
}
