import { type Span, type SpanOptions, type Tracer, trace } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { HealthMonitor } from '../src/index.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  error: boolean;
  ended: boolean;
}

/** A recording tracer provider: the smallest thing the OpenTelemetry API accepts. */
function recorder(spans: Recorded[]): Tracer {
  const startSpan = (name: string, options?: SpanOptions): Span => {
    const rec: Recorded = { name, attributes: { ...options?.attributes }, error: false, ended: false };
    spans.push(rec);
    const span = {
      spanContext: () => ({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 1 }),
      setAttribute: (k: string, v: unknown) => {
        rec.attributes[k] = v;
        return span;
      },
      setAttributes: (a: Record<string, unknown>) => {
        Object.assign(rec.attributes, a);
        return span;
      },
      setStatus: (s: { code: number }) => {
        rec.error = s.code === 2;
        return span;
      },
      recordException: () => {},
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      updateName: () => span,
      isRecording: () => true,
      end: () => {
        rec.ended = true;
      },
    } as unknown as Span;
    return span;
  };
  return {
    startSpan,
    startActiveSpan: (name: string, options: SpanOptions, fn: (span: Span) => unknown) =>
      fn(startSpan(name, options)),
  } as unknown as Tracer;
}

afterAll(() => trace.disable());

it('emits a span per round and per check through @opentelemetry/api when present', async () => {
  const spans: Recorded[] = [];
  const tracer = recorder(spans);
  trace.setGlobalTracerProvider({ getTracer: () => tracer });
  const monitor = new HealthMonitor({
    checks: { redis: () => ({ status: 'healthy' }), pg: () => ({ status: 'unhealthy' }) },
  });
  await monitor.check();
  await monitor.close();
  expect(spans.map((s) => s.name).sort()).toEqual([
    'cxkit.health.check',
    'cxkit.health.check',
    'cxkit.health.round',
  ]);
  expect(spans.every((s) => s.ended)).toBe(true);
  const round = spans.find((s) => s.name === 'cxkit.health.round')!;
  expect(round).toMatchObject({
    error: true,
    attributes: { 'cxkit.health.status': 'unhealthy', 'cxkit.health.components': 2 },
  });
  const pg = spans.find((s) => s.attributes['cxkit.health.component'] === 'pg')!;
  expect(pg).toMatchObject({
    error: true,
    attributes: { 'cxkit.health.observed_status': 'unhealthy', 'cxkit.health.timed_out': false },
  });
  const redis = spans.find((s) => s.attributes['cxkit.health.component'] === 'redis')!;
  expect(redis.error).toBe(false);
});
