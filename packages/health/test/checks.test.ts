import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationCheck, HealthMonitor, httpLatencyCheck } from '../src/index.js';

describe('httpLatencyCheck', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('ok'), 300);
      else if (req.url === '/error') {
        res.statusCode = 503;
        res.end();
      } else if (req.url === '/hang') {
        // never answers
      } else res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('reports latency per platform; over the threshold is degraded', async () => {
    const check = httpLatencyCheck({
      targets: { genesys_cloud: { url: `${base}/fast`, thresholdMs: 60_000 }, cxone: `${base}/slow` },
      thresholdMs: 150,
    });
    const result = await check.check(new AbortController().signal);
    expect(result.status).toBe('degraded');
    expect(result.genesys_cloud_latency_ms).toEqual(expect.any(Number));
    expect(result.cxone_latency_ms as number).toBeGreaterThanOrEqual(290);
    const fast = await httpLatencyCheck({
      targets: { genesys_cloud: { url: `${base}/fast`, thresholdMs: 60_000 } },
    }).check(new AbortController().signal);
    expect(fast).toMatchObject({ status: 'healthy', threshold_ms: 1000 });
  });

  it('a 5xx or a refused connection is unhealthy and named', async () => {
    const check = httpLatencyCheck({
      targets: { genesys_cloud: `${base}/error`, cxone: 'http://127.0.0.1:1/' },
    });
    const result = await check.check(new AbortController().signal);
    expect(result).toMatchObject({
      status: 'unhealthy',
      genesys_cloud_error: 'HTTP 503',
      cxone_latency_ms: null,
    });
    expect(String(result.cxone_error)).not.toBe('');
  });

  it('a hanging endpoint is aborted at the monitor timeout and named', async () => {
    const monitor = new HealthMonitor({
      checks: {
        platform_connectivity: httpLatencyCheck({ targets: { cxone: `${base}/hang`, genesys_cloud: base } }),
      },
      timeoutMs: 300,
    });
    const report = await monitor.check();
    expect(report.components.platform_connectivity).toMatchObject({
      status: 'unhealthy',
      cxone_error: 'no answer before the timeout',
      genesys_cloud_latency_ms: expect.any(Number),
    });
    const ietf = monitor.healthJson();
    expect(ietf.checks['platform_connectivity:responseTime']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ componentId: 'cxone', status: 'fail', observedUnit: 'ms' }),
        expect.objectContaining({ componentId: 'genesys_cloud', observedValue: expect.any(Number) }),
      ]),
    );
    await monitor.close();
  });

  it('validates targets', () => {
    expect(() => httpLatencyCheck({ targets: { x: 'not a url' } })).toThrow(/httpLatencyCheck\.targets\.x/);
  });
});

describe('applicationCheck', () => {
  it('reports uptime and flags a blocked event loop as degraded', async () => {
    const app = applicationCheck({ maxEventLoopDelayMs: 100 });
    const signal = new AbortController().signal;
    await sleep(50);
    const ok = await app.check(signal);
    expect(ok).toMatchObject({
      status: 'healthy',
      uptime_seconds: expect.any(Number),
      max_event_loop_delay_ms: 100,
    });
    await sleep(50); // the first sample after a reset only re-arms the histogram
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // block the event loop
    }
    await sleep(50);
    const blocked = await app.check(signal);
    expect(blocked.status).toBe('degraded');
    expect(blocked.event_loop_delay_p99_ms as number).toBeGreaterThan(100);
    expect(app.groups).toEqual(['liveness', 'readiness']);
    await app.close?.();
  });

  it('reports only the delay beyond its sampling interval: an idle loop reads about 0, not the resolution', async () => {
    // A coarse sampling interval: counted in, every idle sample would read 400 ms or more.
    const app = applicationCheck({ maxEventLoopDelayMs: 300, resolutionMs: 400 });
    const signal = new AbortController().signal;
    await app.check(signal);
    await sleep(2_100);
    const idle = await app.check(signal);
    expect(idle.status).toBe('healthy');
    expect(idle.event_loop_delay_p99_ms as number).toBeLessThan(250);
    await app.close?.();
  });
});
