import { setTimeout as sleep } from 'node:timers/promises';
import { type Span, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { type Env, startEnv } from './helpers.js';

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  ended: boolean;
  error?: string;
}

const recorded: Recorded[] = [];

/** A recording tracer registered through the public API, as an SDK would be. */
const tracer = {
  startActiveSpan(
    name: string,
    options: { attributes?: Record<string, unknown> },
    fn: (span: Span) => unknown,
  ) {
    const record: Recorded = { name, attributes: { ...options.attributes }, ended: false };
    recorded.push(record);
    const span = {
      setAttribute(key: string, value: unknown) {
        record.attributes[key] = value;
        return span;
      },
      recordException() {},
      setStatus(status: { message?: string }) {
        record.error = status.message;
        return span;
      },
      end() {
        record.ended = true;
      },
    };
    return fn(span as unknown as Span);
  },
} as unknown as Tracer;

let env: Env;
beforeAll(async () => {
  trace.setGlobalTracerProvider({ getTracer: () => tracer } as TracerProvider);
  env = await startEnv();
});
afterAll(async () => {
  trace.disable();
  await env?.stop();
});

describe('OpenTelemetry (optional peer)', () => {
  it('traces process() with its outcome and claimMany() with the batch size', async () => {
    const dedup = new Deduplicator({ redis: env.client(), namespace: 'otel', owner: 'pod-a' });
    await sleep(100); // the API is imported lazily
    await dedup.process('m', () => 1);
    await dedup.process('m', () => 2);
    await dedup.process('boom', () => Promise.reject(new Error('handler failed'))).catch(() => {});
    await dedup.claimMany(['a', 'b', 'c']);
    expect(recorded).toEqual([
      {
        name: 'cxkit.dedup.process',
        attributes: {
          'cxkit.dedup.namespace': 'otel',
          'messaging.message.id': 'm',
          'cxkit.dedup.outcome': 'processed',
        },
        ended: true,
      },
      {
        name: 'cxkit.dedup.process',
        attributes: {
          'cxkit.dedup.namespace': 'otel',
          'messaging.message.id': 'm',
          'cxkit.dedup.outcome': 'done',
        },
        ended: true,
      },
      {
        name: 'cxkit.dedup.process',
        attributes: { 'cxkit.dedup.namespace': 'otel', 'messaging.message.id': 'boom' },
        ended: true,
        error: 'handler failed',
      },
      {
        name: 'cxkit.dedup.claim_many',
        attributes: { 'cxkit.dedup.namespace': 'otel', 'cxkit.dedup.batch_size': 3 },
        ended: true,
      },
    ]);
    await dedup.close();
  });
});
