import { randomBytes } from 'node:crypto';
import { waitUntil } from '@cxkit/testkit';
import { ClientCloud } from '../client-cloud/server.js';
import { createPool } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { issueToken } from '../http/tokens.js';
import { type DemoDatabase, demoDatabase } from '../infra/postgres.js';
import { type DemoRedis, demoRedis } from '../infra/redis.js';
import { call } from './api-client.js';
import { lockRequest } from './payloads.js';
import { RegionProcess, ServiceProcess } from './region-process.js';

/** Thresholds shortened so the scenario runs in about a minute; production keeps the seed's numbers. */
export interface DemoSettings {
  lockStaleAfterMs: number;
  lockHeartbeatMs: number;
  /** Also the amnesia guard window: freshly started lock nodes vote only after it. */
  lockMaxTtlMs: number;
  healthIntervalMs: number;
  recoverAfter: number;
  rateLimitPerSecond: number;
  cloudLatencyMs: number;
}

export const demoSettings: DemoSettings = {
  lockStaleAfterMs: 1_500,
  lockHeartbeatMs: 400,
  lockMaxTtlMs: 5_000,
  healthIntervalMs: 300,
  recoverAfter: 3,
  rateLimitPerSecond: 50,
  cloudLatencyMs: 25,
};

export const REGION_A = 'us-east-1';
export const REGION_B = 'eu-west-1';

/** Everything the scenario runs against: real servers, two region processes and the worker pool. */
export class DemoEnvironment {
  regionA!: RegionProcess;
  regionB!: RegionProcess;
  worker!: ServiceProcess;
  token!: string;
  readonly pool;

  private constructor(
    readonly redis: DemoRedis,
    readonly database: DemoDatabase,
    readonly cloud: ClientCloud,
    readonly settings: DemoSettings,
    readonly secret: string,
  ) {
    this.pool = createPool(database.url, 4, 'contact-center-demo');
  }

  static async start(
    settings: DemoSettings = demoSettings,
    log: (line: string) => void = () => {},
  ): Promise<DemoEnvironment> {
    const redis = await demoRedis();
    log(`redis: ${redis.urls.join(', ')} (${redis.source})`);
    const database = await demoDatabase().catch(async (err) => {
      await redis.stop();
      throw err;
    });
    log(`postgres: ${database.source}`);
    const cloud = await ClientCloud.start({
      latencyMs: settings.cloudLatencyMs,
      jitterMs: settings.cloudLatencyMs,
    });
    log(
      `client cloud (slow fake CRM/WFM): ${cloud.url}, ${settings.cloudLatencyMs}-${2 * settings.cloudLatencyMs} ms per call`,
    );
    const env = new DemoEnvironment(redis, database, cloud, settings, randomBytes(32).toString('hex'));
    try {
      await migrate(env.pool);
      env.token = await issueToken(
        env.secret,
        ['session:read', 'session:write', 'webhooks:deliver', 'agents:read'],
        {
          expiresIn: '12h',
        },
      );
      [env.regionA, env.regionB, env.worker] = await Promise.all([
        env.startRegion(REGION_A, 1),
        env.startRegion(REGION_B, 2),
        ServiceProcess.start('worker pool', 'worker-main.ts', env.serviceEnv(), (l) =>
          l.includes('worker pool ready'),
        ),
      ]);
      log(`region ${REGION_A} (flow schema v1): ${env.regionA.url}`);
      log(`region ${REGION_B} (flow schema v2): ${env.regionB.url}`);
      log(`waiting for the lock quorum (fresh nodes vote after ${settings.lockMaxTtlMs} ms) and health`);
      await env.waitUntilReady();
    } catch (err) {
      await env.stop();
      throw err;
    }
    return env;
  }

  /**
   * Lock nodes that start empty look like nodes that lost their data, so they join the quorum only after
   * the amnesia guard window; regions report healthy once every check passed `recoverAfter` rounds.
   */
  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    for (const region of [this.regionA, this.regionB]) {
      await waitUntil(
        `lock quorum via ${region.region}`,
        async () => {
          const body = lockRequest(`warmup-${region.region}`, region.region, 1_000);
          const res = await call(region.url, 'POST', '/api/v1/state/locks/acquire', {
            token: this.token,
            body,
          });
          if (res.status !== 200) return false;
          await call(region.url, 'POST', '/api/v1/state/locks/release', {
            token: this.token,
            body: { resource_id: body.resource_id, lock_token: res.body.lock_token },
          });
          return true;
        },
        timeoutMs,
        250,
      );
      await waitUntil(
        `${region.region} healthy`,
        async () => (await call(region.url, 'GET', '/health')).status === 200,
        timeoutMs,
        250,
      );
    }
  }

  /** Environment shared by every child process. */
  serviceEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.database.url,
      REDIS_NODES: this.redis.urls.join(','),
      CLIENT_CLOUD_URL: this.cloud.url,
      LOG_LEVEL: 'warn',
    };
  }

  /** Starts (or restarts) a region process running flow schema `schemaVersion`. */
  startRegion(region: string, schemaVersion: 1 | 2): Promise<RegionProcess> {
    const s = this.settings;
    return RegionProcess.start(region, {
      ...this.serviceEnv(),
      JWT_SECRET: this.secret,
      FLOW_SCHEMA_VERSION: String(schemaVersion),
      LOCK_STALE_AFTER_MS: String(s.lockStaleAfterMs),
      LOCK_HEARTBEAT_MS: String(s.lockHeartbeatMs),
      LOCK_TTL_MS: String(s.lockMaxTtlMs),
      LOCK_MAX_TTL_MS: String(s.lockMaxTtlMs),
      HEALTH_INTERVAL_MS: String(s.healthIntervalMs),
      HEALTH_TIMEOUT_MS: String(Math.max(250, s.healthIntervalMs)),
      HEALTH_RECOVER_AFTER: String(s.recoverAfter),
      RATE_LIMIT_MAX: String(s.rateLimitPerSecond),
      RATE_LIMIT_WINDOW_MS: '1000',
      // PGlite and a throwaway database have no standby; lag is then 0.
      DB_MAX_LAG_MS: '50',
      // Demo machines run everything on a few cores; a busy event loop is not what step 5 is about.
      HEALTH_MAX_EVENT_LOOP_DELAY_MS: '2000',
      DATABASE_PREPARED_STATEMENTS: this.database.source === 'pglite' ? 'false' : 'true',
      PLATFORM_URLS: `genesys_cloud=${this.cloud.url}/ping/genesys,cxone=${this.cloud.url}/ping/cxone`,
      SHUTDOWN_DRAIN_MS: '0',
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.regionA?.process.stop(),
      this.regionB?.process.stop(),
      this.worker?.stop(),
    ]);
    await this.pool.end().catch(() => {});
    await this.cloud.close();
    await this.database.stop().catch(() => {});
    await this.redis.stop();
  }
}
