import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { trace } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isLockConflictError, LockManager } from '../src/index.js';
import { client, quit, sleep } from './helpers.js';

let redis: RedisNodes;
let clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedisNodes(1, { private: true });
  clients = [client(redis.urls[0]!)];
});

afterAll(async () => {
  trace.disable();
  await quit(clients);
  await redis?.stop();
});

it('emits an OpenTelemetry span per acquire when @opentelemetry/api is present', async () => {
  const spans: { name: string; attributes: Record<string, unknown>; ended: boolean; error: boolean }[] = [];
  // A minimal recording tracer (the SDK is not a dependency): enough to see what the package reports.
  const tracer = {
    startActiveSpan(
      name: string,
      options: { attributes?: Record<string, unknown> },
      fn: (span: unknown) => unknown,
    ) {
      const record = { name, attributes: { ...options.attributes }, ended: false, error: false };
      spans.push(record);
      return fn({
        setAttributes: (a: Record<string, unknown>) => Object.assign(record.attributes, a),
        recordException: () => {
          record.error = true;
        },
        setStatus: () => {},
        end: () => {
          record.ended = true;
        },
      });
    },
  };
  trace.setGlobalTracerProvider({ getTracer: () => tracer } as never);
  const manager = new LockManager({ nodes: clients[0]! });
  await sleep(50); // the optional peer is loaded lazily
  const lock = await manager.acquire('traced');
  const second = await manager.acquire('traced').catch((e: unknown) => e);
  expect(isLockConflictError(second)).toBe(true);
  await lock.release();
  await manager.close();
  expect(spans.map((s) => s.name)).toEqual(['cxkit.locks.acquire', 'cxkit.locks.acquire']);
  expect(spans[0]).toMatchObject({
    ended: true,
    error: false,
    attributes: { 'cxkit.lock.resource': 'traced', 'cxkit.lock.fence': lock.fence },
  });
  expect(spans[1]).toMatchObject({ ended: true, error: true });
});
