import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import { type CheckResult, ConfigError, HealthMonitor, isConfigError, type Status } from '../src/index.js';

const pass = (): CheckResult => ({ status: 'healthy' });
const fail = (): CheckResult => ({ status: 'unhealthy', reason: 'down' });

/** A check that follows a script of outcomes, one per round. */
function scripted(outcomes: boolean[]) {
  let round = 0;
  return async () => ((outcomes[round++] ?? true) ? pass() : fail());
}

describe('HealthMonitor hysteresis', () => {
  it('a dependency flapping every round never returns to healthy before 3 consecutive passes', async () => {
    const outcomes = [true, false, true, false, true, false, true, false, true, true, true, true];
    const monitor = new HealthMonitor({ checks: { redis: scripted(outcomes) }, intervalMs: 60_000 });
    const overall: Status[] = [];
    const component: Status[] = [];
    const changes: string[] = [];
    monitor.on('component', (e) => changes.push(`${e.from}->${e.to}`));
    for (let i = 0; i < outcomes.length; i++) {
      const report = await monitor.check();
      overall.push(report.status);
      component.push(report.components.redis!.status);
    }
    expect(overall).toEqual([
      'healthy', // first observation taken as is
      'unhealthy', // failAfter 1
      'unhealthy', // pass 1/3
      'unhealthy',
      'unhealthy', // pass 1/3
      'unhealthy',
      'unhealthy', // pass 1/3
      'unhealthy',
      'unhealthy', // pass 1/3
      'unhealthy', // pass 2/3
      'healthy', // pass 3/3
      'healthy',
    ]);
    expect(component).toEqual(overall);
    expect(changes).toEqual(['unhealthy->healthy', 'healthy->unhealthy', 'unhealthy->healthy']);
    await monitor.close();
  });

  it('shows the measured status and the passes so far while a component is held', async () => {
    const monitor = new HealthMonitor({ checks: { db: scripted([false, true, true]) } });
    await monitor.check();
    const held = await monitor.check();
    expect(held.components.db).toMatchObject({
      status: 'unhealthy',
      observed_status: 'healthy',
      consecutive_passes: 1,
    });
    await monitor.close();
  });

  it('failAfter 2 tolerates one failed round', async () => {
    const monitor = new HealthMonitor({ checks: { db: scripted([true, false, false]) }, failAfter: 2 });
    expect((await monitor.check()).status).toBe('healthy');
    const once = await monitor.check();
    expect(once.status).toBe('healthy');
    expect(once.components.db).toMatchObject({ status: 'healthy', observed_status: 'unhealthy' });
    expect((await monitor.check()).status).toBe('unhealthy');
    await monitor.close();
  });
});

describe('HealthMonitor checks', () => {
  it('a check that ignores its signal times out, counts as unhealthy and is never stacked', async () => {
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<CheckResult>(() => {});
    };
    const monitor = new HealthMonitor({ checks: { hang, ok: pass }, timeoutMs: 150, abortGraceMs: 10 });
    const started = performance.now();
    const report = await monitor.check();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report.status).toBe('unhealthy');
    expect(report.components.hang).toMatchObject({
      status: 'unhealthy',
      error: expect.stringMatching(/timed out after 150 ms/),
    });
    expect(report.components.ok!.status).toBe('healthy');
    const second = await monitor.check();
    expect(calls).toBe(1);
    expect(second.components.hang!.error).toMatch(/previous run has not settled/);
    await monitor.close();
  });

  it('a check honouring its signal may report what it knows after the timeout', async () => {
    const partial = (signal: AbortSignal) =>
      new Promise<CheckResult>((resolve) => {
        signal.addEventListener('abort', () => resolve({ status: 'degraded', waiting_for: 'node-b' }));
      });
    const monitor = new HealthMonitor({ checks: { partial }, timeoutMs: 100 });
    const report = await monitor.check();
    expect(report.components.partial).toMatchObject({
      status: 'unhealthy',
      waiting_for: 'node-b',
      error: expect.stringMatching(/timed out/),
    });
    await monitor.close();
  });

  it('a throw or an invalid result is unhealthy with the error', async () => {
    const monitor = new HealthMonitor({
      checks: {
        boom: () => {
          throw new Error('connection refused');
        },
        odd: async () => ({ status: 'fine' }) as unknown as CheckResult,
        // What `() => axios.get(url)` resolves: no status, and circular (JSON.stringify throws).
        circular: async () => {
          const response: Record<string, unknown> = { data: 'ok' };
          response.request = { res: response };
          return response as unknown as CheckResult;
        },
        big: async () => ({ n: 1n }) as unknown as CheckResult,
      },
    });
    const report = await monitor.check();
    expect(report.components.boom).toEqual({ status: 'unhealthy', error: 'connection refused' });
    expect(report.components.odd!.error).toMatch(/invalid result/);
    expect(report.components.circular).toEqual({
      status: 'unhealthy',
      error: 'check resolved an invalid result: a Object',
    });
    expect(report.components.big!.status).toBe('unhealthy');
    // The next round runs them again (nothing stayed pending).
    expect((await monitor.check()).components.circular!.status).toBe('unhealthy');
    await monitor.close();
  });

  it('runs checks in parallel and joins a round already under way', async () => {
    let calls = 0;
    let running = 0;
    let peak = 0;
    const slow = async () => {
      calls++;
      peak = Math.max(peak, ++running);
      await sleep(100);
      running--;
      return pass();
    };
    const monitor = new HealthMonitor({ checks: { a: slow, b: slow, c: slow } });
    const [r1, r2] = await Promise.all([monitor.check(), monitor.check()]);
    expect(r1).toBe(r2);
    expect(calls).toBe(3);
    expect(peak).toBe(3);
    await monitor.close();
  });
});

describe('HealthMonitor policy and groups', () => {
  it('a non-critical component is reported but not counted; degraded counts as unhealthy', async () => {
    const monitor = new HealthMonitor({
      checks: {
        cache: { check: fail, critical: false },
        db: pass,
      },
    });
    const report = await monitor.check();
    expect(report.status).toBe('healthy');
    expect(report.components.cache).toMatchObject({ status: 'unhealthy', critical: false });
    await monitor.close();

    const degraded = new HealthMonitor({ checks: { db: () => ({ status: 'degraded' }) } });
    expect((await degraded.check()).status).toBe('unhealthy');
    await degraded.close();
  });

  it('liveness, readiness and startup views; draining fails readiness but not liveness', async () => {
    let dbUp = false;
    const monitor = new HealthMonitor({
      checks: {
        application: { check: pass, groups: ['liveness', 'readiness', 'startup'] },
        db: { check: () => (dbUp ? pass() : fail()), groups: ['readiness'] },
        migrations: { check: () => (dbUp ? pass() : fail()), groups: ['startup'] },
      },
    });
    expect(monitor.report().reason).toMatch(/no round/);
    await monitor.check();
    expect(monitor.report('liveness')).toMatchObject({ status: 'healthy' });
    expect(Object.keys(monitor.report('liveness').components)).toEqual(['application']);
    expect(monitor.report('readiness').status).toBe('unhealthy');
    expect(monitor.report('startup').status).toBe('unhealthy');
    dbUp = true;
    await monitor.check();
    await monitor.check();
    // Hysteresis applies to startup components too: 3 passes after a failure.
    expect(monitor.report('startup').status).toBe('unhealthy');
    await monitor.check();
    expect(monitor.report('startup').status).toBe('healthy');
    dbUp = false;
    await monitor.check();
    // Startup latches once passed.
    expect(monitor.report('startup').status).toBe('healthy');
    monitor.drain();
    expect(monitor.report('liveness').status).toBe('healthy');
    expect(monitor.report('readiness')).toMatchObject({
      status: 'unhealthy',
      reason: expect.stringMatching(/draining/),
    });
    expect(monitor.report().status).toBe('unhealthy');
    await monitor.close();
  });

  it('a snapshot older than maxStalenessMs is unhealthy', async () => {
    const monitor = new HealthMonitor({ checks: { db: pass }, intervalMs: 50, maxStalenessMs: 120 });
    expect((await monitor.check()).status).toBe('healthy');
    await sleep(250);
    const stale = monitor.report();
    expect(stale.status).toBe('unhealthy');
    expect(stale.reason).toMatch(/old/);
    expect(stale.components.db!.status).toBe('healthy');
    await monitor.close();
  });
});

describe('HealthMonitor staleness default', () => {
  it("a check with a longer timeout than the monitor's lengthens rounds without making snapshots stale", async () => {
    // Each round waits for this check's own 600 ms timeout: snapshots come about 650 ms apart, more
    // than three times (intervalMs + the monitor's timeoutMs).
    const slow = {
      timeoutMs: 600,
      critical: false,
      check: (signal: AbortSignal) =>
        new Promise<CheckResult>((resolve) =>
          signal.addEventListener('abort', () => resolve({ status: 'unhealthy' }), { once: true }),
        ),
    };
    const monitor = new HealthMonitor({ checks: { db: pass, slow }, intervalMs: 50, timeoutMs: 100 });
    monitor.start();
    await monitor.check();
    const reasons = new Set<string>();
    const until = performance.now() + 2_500;
    while (performance.now() < until) {
      const reason = monitor.report().reason;
      if (reason) reasons.add(reason);
      await sleep(20);
    }
    expect([...reasons].filter((r) => /old/.test(r))).toEqual([]);
    await monitor.close();
  });
});

describe('HealthMonitor lifecycle and events', () => {
  it('start() runs rounds in the background and close() stops them', async () => {
    let calls = 0;
    const monitor = new HealthMonitor({
      checks: {
        db: () => {
          calls++;
          return pass();
        },
      },
      intervalMs: 20,
    });
    const rounds: number[] = [];
    const off = monitor.on('round', (e) => rounds.push(e.durationMs));
    const changes: string[] = [];
    monitor.on('change', (e) => changes.push(`${e.from}->${e.to}`));
    monitor.start().start();
    await waitUntil('three background rounds', async () => calls >= 3, 10_000, 10);
    expect(monitor.report().status).toBe('healthy');
    expect(changes).toEqual(['unhealthy->healthy']);
    off();
    const seen = rounds.length;
    await sleep(60);
    expect(rounds.length).toBe(seen);
    await monitor.close();
    const after = calls;
    await sleep(100);
    expect(calls).toBe(after);
  });

  it('a throwing listener does not break the round', async () => {
    const errors: unknown[] = [];
    const monitor = new HealthMonitor({ checks: { db: pass }, logger: { error: (o) => errors.push(o) } });
    monitor.on('round', () => {
      throw new Error('listener bug');
    });
    expect((await monitor.check()).status).toBe('healthy');
    expect(errors).toHaveLength(1);
    await monitor.close();
  });

  it('rejects bad options with a ConfigError naming the field', () => {
    const bad = (o: unknown) => () => new HealthMonitor(o as never);
    expect(bad({ checks: {} })).toThrow(ConfigError);
    expect(bad({ checks: { db: pass }, timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(bad({ checks: { 'a:b': pass } })).toThrow(/checks/);
    expect(bad({ checks: { db: { check: 1 } } })).toThrow(/checks\.db/);
    expect(bad({ checks: { db: pass }, intervalMs: 1000, maxStalenessMs: 500 })).toThrow(/maxStalenessMs/);
    expect(bad({ checks: { db: pass }, recoverAfter: 0 })).toThrow(/recoverAfter/);
    try {
      bad({ checks: { db: pass }, bogus: 1 })();
    } catch (err) {
      expect(isConfigError(err)).toBe(true);
      expect(err).toBeInstanceOf(TypeError);
    }
  });
});
