import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRouter } from '../src/express.js';
import { healthPlugin } from '../src/fastify.js';
import { applicationCheck, type CheckResult, HealthMonitor, healthHandler } from '../src/index.js';
import { ietfHealth } from './ietf-schema.js';

interface Adapter {
  name: string;
  start(monitor: HealthMonitor): Promise<{ base: string; stop(): Promise<void> }>;
}

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};

const adapters: Adapter[] = [
  { name: 'node:http', start: async (m) => listen(createServer(healthHandler(m))) },
  {
    name: 'express',
    start: async (m) => {
      const app = express();
      app.use(healthRouter(m));
      return listen(createServer(app));
    },
  },
  {
    name: 'fastify',
    start: async (m) => {
      const app: FastifyInstance = Fastify();
      await app.register(healthPlugin, { monitor: m });
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      return { base, stop: () => app.close() };
    },
  },
];

describe.each(adapters)('$name adapter', (adapter) => {
  let monitor: HealthMonitor;
  let dbUp = true;
  let base: string;
  let stop: () => Promise<void>;
  const db = (): CheckResult =>
    dbUp
      ? { status: 'healthy', replication_lag_ms: 4, max_allowed_lag_ms: 50 }
      : { status: 'unhealthy', error: 'ECONNREFUSED' };

  beforeAll(async () => {
    monitor = new HealthMonitor({
      checks: {
        application: applicationCheck({ maxEventLoopDelayMs: 60_000 }), // the test machine is shared and loaded
        database_replication: {
          check: db,
          observe: (r) => [
            { measurement: 'replicationLag', observedValue: r.replication_lag_ms, observedUnit: 'ms' },
          ],
        },
        cache: { check: () => ({ status: 'degraded' }), critical: false },
      },
      recoverAfter: 1,
      service: { serviceId: 'crm-bridge', version: '1', releaseId: '1.4.2' },
    });
    ({ base, stop } = await adapter.start(monitor));
  });

  afterAll(async () => {
    await stop();
    await monitor.close();
  });

  it('answers 503 before the first round, then 200 with the seed shape and no-store', async () => {
    const before = await fetch(`${base}/health`);
    expect(before.status).toBe(503);
    expect(((await before.json()) as { reason: string }).reason).toMatch(/no round/);
    await monitor.check();
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'healthy',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      components: {
        application: { status: 'healthy', uptime_seconds: expect.any(Number) },
        database_replication: { status: 'healthy', replication_lag_ms: 4, max_allowed_lag_ms: 50 },
        cache: { status: 'degraded', critical: false },
      },
    });
  });

  it('serves live, ready and startup; a failing dependency fails ready but not live', async () => {
    dbUp = false;
    await monitor.check();
    try {
      const [health, live, ready, startup] = await Promise.all(
        ['/health', '/health/live', '/health/ready', '/health/startup'].map((p) => fetch(`${base}${p}`)),
      );
      expect(health!.status).toBe(503);
      expect(live!.status).toBe(200);
      expect(ready!.status).toBe(503);
      expect(startup!.status).toBe(200);
      expect(Object.keys(((await live!.json()) as { components: object }).components)).toEqual([
        'application',
      ]);
      expect(ready!.headers.get('cache-control')).toBe('no-store');
    } finally {
      dbUp = true;
      await monitor.check();
    }
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  it('answers application/health+json on Accept, valid against the IETF draft schema', async () => {
    const ok = await fetch(`${base}/health`, { headers: { accept: 'application/health+json' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/health+json');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const body = ietfHealth.parse(await ok.json());
    expect(body.status).toBe('warn'); // healthy overall, a non-critical component is degraded
    expect(body).toMatchObject({ serviceId: 'crm-bridge', version: '1', releaseId: '1.4.2' });
    expect(body.checks?.['database_replication:replicationLag']).toEqual([
      expect.objectContaining({
        status: 'pass',
        observedValue: 4,
        observedUnit: 'ms',
        time: expect.any(String),
      }),
    ]);
    expect(body.checks?.['application:uptime']?.[0]).toMatchObject({
      observedUnit: 's',
      componentType: 'system',
    });
    expect(body.checks?.cache?.[0]?.status).toBe('warn');

    dbUp = false;
    await monitor.check();
    try {
      const failing = await fetch(`${base}/health/ready`, { headers: { accept: 'application/health+json' } });
      expect(failing.status).toBe(503);
      const parsed = ietfHealth.parse(await failing.json());
      expect(parsed.status).toBe('fail');
      expect(parsed.checks?.['database_replication:replicationLag']?.[0]).toMatchObject({
        status: 'fail',
        output: 'ECONNREFUSED',
      });
    } finally {
      dbUp = true;
      await monitor.check();
    }
  });

  it('answers HEAD without a body', async () => {
    const res = await fetch(`${base}/health/live`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('node:http handler routing', () => {
  it('passes other paths to next, or answers 404, and honours path and details', async () => {
    const monitor = new HealthMonitor({ checks: { db: () => ({ status: 'healthy', secret: 'x' }) } });
    await monitor.check();
    const handler = healthHandler(monitor, { path: '/_status/', details: false });
    const server = createServer((req, res) =>
      handler(req, res, () => {
        res.writeHead(418).end();
      }),
    );
    const { base, stop } = await listen(server);
    try {
      const res = await fetch(`${base}/_status/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'healthy', timestamp: expect.any(String) });
      expect((await fetch(`${base}/health`)).status).toBe(418);
      expect((await fetch(`${base}/_status/other`)).status).toBe(418);
    } finally {
      await stop();
    }
    const bare = await listen(createServer(healthHandler(monitor)));
    try {
      expect((await fetch(`${bare.base}/nope`)).status).toBe(404);
      expect((await fetch(`${bare.base}/health?x=1`)).status).toBe(200);
      // Targets Node's parser accepts but `new URL` rejects: answered, the process lives on.
      const port = Number(new URL(bare.base).port);
      expect(await rawStatus(port, '//')).toBe(404);
      expect(await rawStatus(port, 'http://a:99999/health')).toBe(404);
      expect(await rawStatus(port, 'http://example/health/live')).toBe(200);
    } finally {
      await bare.stop();
    }
    // Mounted at the root: '/', '/live', '/ready', '/startup'.
    const root = await listen(createServer(healthHandler(monitor, { path: '/' })));
    try {
      expect((await fetch(`${root.base}/`)).status).toBe(200);
      expect((await fetch(`${root.base}/live`)).status).toBe(200);
      expect((await fetch(`${root.base}/ready`)).status).toBe(200);
      expect((await fetch(`${root.base}/nope`)).status).toBe(404);
    } finally {
      await root.stop();
    }
    const rooted: FastifyInstance = Fastify();
    await rooted.register(healthPlugin, { monitor, path: '/' });
    expect((await rooted.inject({ url: '/live' })).statusCode).toBe(200);
    expect((await rooted.inject({ url: '/' })).statusCode).toBe(200);
    await rooted.close();
    expect(() => healthHandler(monitor, { path: 'health' })).toThrow(/http\.path/);
    await monitor.close();
  });
});

/** The status answered to a GET whose request line carries `target` exactly as given. */
function rawStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d;
    });
    socket.on('end', () => resolve(Number(text.split(' ')[1])));
    socket.on('error', reject);
  });
}
