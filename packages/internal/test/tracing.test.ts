import { recordingTracerProvider } from '@cxkit/testkit';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracing } from '../src/index.js';

const { provider, recorded } = recordingTracerProvider();

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(() => {
  trace.disable();
});

describe('createTracing', () => {
  it('runs fn untraced until load() settles, then in a span of the named tracer', async () => {
    const tracing = createTracing('@cxkit/internal-test');
    await expect(
      tracing.traced('early', {}, async (span) => (span === undefined ? 'no span' : 'span')),
    ).resolves.toBe('no span');
    expect(recorded).toEqual([]);
    await tracing.load();
    const result = await tracing.traced('op', { 'cxkit.k': 'v' }, async (span) => {
      span?.setAttribute('cxkit.extra', 3);
      return 42;
    });
    expect(result).toBe(42);
    expect(recorded).toEqual([
      {
        tracer: '@cxkit/internal-test',
        name: 'op',
        attributes: { 'cxkit.k': 'v', 'cxkit.extra': 3 },
        ended: true,
      },
    ]);
  });

  it('records a failure on the span (exception, ERROR status with the message) and rethrows it', async () => {
    recorded.length = 0;
    const tracing = createTracing('@cxkit/internal-test');
    await tracing.load();
    const boom = new Error('write failed');
    await expect(
      tracing.traced('failing', {}, async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ name: 'failing', ended: true, exception: boom });
    expect(recorded[0]?.status).toEqual({ code: 2, message: 'write failed' });
  });

  it('load() imports once and returns the same settled promise every time', async () => {
    const tracing = createTracing('@cxkit/internal-test');
    const first = tracing.load();
    expect(tracing.load()).toBe(first);
    await expect(first).resolves.toBeUndefined();
  });

  it('keeps each tracing instance independent: an unloaded one stays untraced', async () => {
    recorded.length = 0;
    const loaded = createTracing('@cxkit/a');
    const unloaded = createTracing('@cxkit/b');
    await loaded.load();
    await loaded.traced('a', {}, async () => {});
    await unloaded.traced('b', {}, async () => {});
    expect(recorded.map((r) => `${r.tracer} ${r.name}`)).toEqual(['@cxkit/a a']);
  });

  it('enabled: only once loaded, and only while a tracer provider (an SDK) is registered', async () => {
    const tracing = createTracing('@cxkit/internal-test');
    expect(tracing.enabled).toBe(false);
    await tracing.load();
    expect(tracing.enabled).toBe(true);

    trace.disable();
    const noSdk = createTracing('@cxkit/internal-test');
    await noSdk.load();
    expect(noSdk.enabled).toBe(false);
    // An SDK registered after the import is picked up, as the API's proxy tracer picks it up.
    trace.setGlobalTracerProvider(provider);
    expect(noSdk.enabled).toBe(true);
  });

  it('traced() skips the span while no SDK is registered and records once one is', async () => {
    trace.disable();
    const tracing = createTracing('@cxkit/late');
    await tracing.load();
    const before = recorded.length;
    expect(await tracing.traced('unrecorded', {}, async (span) => span === undefined)).toBe(true);
    expect(recorded.length).toBe(before);
    trace.setGlobalTracerProvider(provider);
    expect(await tracing.traced('recorded', {}, async (span) => span !== undefined)).toBe(true);
    expect(recorded.slice(before).map((r) => `${r.tracer} ${r.name}`)).toEqual(['@cxkit/late recorded']);
  });
});
