import { setTimeout as sleep } from 'node:timers/promises';
import {
  type PostgresHandle,
  type RedisNodes,
  startPostgres,
  startRedisNodes,
  waitUntil,
} from '@cxkit/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gracefulShutdown, HealthMonitor } from '../src/index.js';

describe('gracefulShutdown', () => {
  let redisNode: RedisNodes;
  let postgres: PostgresHandle;

  beforeAll(async () => {
    [redisNode, postgres] = await Promise.all([startRedisNodes(1, { private: true }), startPostgres()]);
  });

  afterAll(async () => {
    await redisNode?.stop();
    await postgres?.stop();
  });

  it('on SIGTERM: readiness fails, drain delay, in-flight work finishes, then Redis and pg close in order', async () => {
    const redis = new Redis(redisNode.urls[0]!);
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    const monitor = new HealthMonitor({
      checks: {
        redis: async () => ({ status: (await redis.ping()) === 'PONG' ? 'healthy' : 'unhealthy' }),
        database: async () => ({
          status: (await pool.query('SELECT 1 AS one')).rows[0].one === 1 ? 'healthy' : 'unhealthy',
        }),
      },
    });
    await monitor.check();
    const log: string[] = [];
    const shutdown = gracefulShutdown({
      monitor,
      drainDelayMs: 150,
      inFlightTimeoutMs: 5_000,
      resources: [
        { name: 'redis', close: async () => void log.push(`close redis ${await redis.quit()}`) },
        { name: 'pg', close: async () => void log.push(`close pg ${await pool.end()}`) },
      ],
    });
    shutdown.on('phase', (e) => log.push(`phase ${e.phase}`));
    // A request that is still running when SIGTERM arrives, and that needs both stores.
    const work = shutdown.track(async () => {
      await sleep(400);
      await redis.set('order', 'saved');
      await pool.query('SELECT pg_sleep(0.05)');
      log.push('work done');
      return 'ok';
    });
    expect(shutdown.inFlight).toBe(1);
    const started = performance.now();
    process.emit('SIGTERM', 'SIGTERM'); // what a real signal delivers to listeners
    expect(monitor.report('readiness').status).toBe('unhealthy');
    expect(monitor.report('liveness').status).toBe('healthy');
    const result = await shutdown.shutdown();
    expect(await work).toBe('ok');
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(log).toEqual([
      'phase draining',
      'phase waiting',
      'work done',
      'phase closing',
      'close redis OK',
      'close pg undefined',
      'phase closed',
    ]);
    expect(result).toMatchObject({
      reason: 'SIGTERM',
      inFlightAbandoned: 0,
      resources: [
        { name: 'redis', ok: true },
        { name: 'pg', ok: true },
      ],
    });
    await waitUntil('redis connection closed', async () => redis.status === 'end', 5_000);
    expect(pool.ended).toBe(true);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('bounds in-flight work and each close(), and keeps closing after a failure', async () => {
    const closed: string[] = [];
    const shutdown = gracefulShutdown({
      drainDelayMs: 0,
      inFlightTimeoutMs: 100,
      closeTimeoutMs: 100,
      signals: [],
      resources: [
        { name: 'hangs', close: () => new Promise(() => {}) },
        {
          name: 'throws',
          close: () => {
            throw new Error('already closed');
          },
        },
        { name: 'last', close: () => void closed.push('last') },
      ],
    });
    void shutdown.track(new Promise(() => {}));
    const result = await shutdown.shutdown('test');
    expect(result.inFlightAbandoned).toBe(1);
    expect(result.resources.map((r) => [r.name, r.ok])).toEqual([
      ['hangs', false],
      ['throws', false],
      ['last', true],
    ]);
    expect(result.resources[0]!.error).toMatch(/within 100 ms/);
    expect(result.resources[1]!.error).toBe('already closed');
    expect(closed).toEqual(['last']);
    expect(await shutdown.shutdown('again')).toBe(result);
  });
});
