import { startRedisNodes } from '@cxkit/testkit';
import { type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, cache, client, connected, namespace } from './helpers.js';

/** A minimal tracer that records span names and attributes (no SDK needed). */
function recordingProvider(spans: { name: string; attributes: Record<string, unknown> }[]): TracerProvider {
  const tracer = {
    startActiveSpan(
      name: string,
      options: { attributes?: Record<string, unknown> },
      fn: (span: Span) => unknown,
    ) {
      const record = { name, attributes: { ...options.attributes } };
      spans.push(record);
      const span = {
        setAttribute: (k: string, v: unknown) => {
          record.attributes[k] = v;
          return span;
        },
        recordException: () => {},
        setStatus: () => span,
        end: () => {},
      } as unknown as Span;
      return fn(span);
    },
  } as unknown as Tracer;
  return { getTracer: () => tracer };
}

describe('OpenTelemetry (optional peer)', () => {
  let nodes: Awaited<ReturnType<typeof startRedisNodes>>;
  let redis: Redis;
  beforeAll(async () => {
    nodes = await startRedisNodes(1, { private: true });
    redis = await connected(client(nodes.urls[0]!));
  });
  afterAll(async () => {
    trace.disable();
    redis.disconnect();
    await nodes.stop();
  });

  it('traces apply, rebuild, snapshot and Redis reads when @opentelemetry/api is present', async () => {
    const spans: { name: string; attributes: Record<string, unknown> }[] = [];
    trace.setGlobalTracerProvider(recordingProvider(spans));
    const ns = namespace('otel');
    const c = cache<Agent>(redis, ns);
    await c.start();
    await c.ready(AbortSignal.timeout(10_000));
    await c.apply([
      { key: 'a', version: 1, type: 'CREATED', value: { state: 'idle', n: 1 } },
      { key: 'a', version: 1, type: 'CREATED', value: { state: 'idle', n: 1 } },
    ]);
    const reader = cache<Agent>(redis, ns, { nearCache: { max: 1, ttlMs: 60_000 } });
    await reader.start();
    await reader.getMany(['b', 'c']);
    await Promise.all([c.close(), reader.close()]);
    const names = spans.map((s) => s.name);
    expect(names).toContain('state-cache.rebuild');
    expect(names).toContain('state-cache.snapshot');
    expect(names).toContain('state-cache.read');
    expect(spans.find((s) => s.name === 'state-cache.apply')?.attributes).toMatchObject({
      'cxkit.namespace': ns,
      'cxkit.events': 2,
      'cxkit.applied': 1,
    });
  });
});
