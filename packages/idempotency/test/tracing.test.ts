import { type RecordedSpan, recordingTracerProvider } from '@cxkit/testkit';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracing } from '../src/tracing.js';
import { deferred, type Fixture, fixture, uniqueTable } from './helpers.js';

const { provider, recorded } = recordingTracerProvider();

/** The spans recorded while `fn` ran. */
async function spansOf(fn: () => Promise<unknown>): Promise<RecordedSpan[]> {
  const from = recorded.length;
  await fn().catch(() => undefined);
  return recorded.slice(from);
}

let f: Fixture;
beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  await tracing.load(); // the optional peer is imported lazily; stores share this one import
  f = await fixture();
});
afterAll(async () => {
  trace.disable();
  await f?.close();
});

const SECRET_KEY = 'session-4711:transfer';
const REQUEST = { account: 'ACC-991', amount: 40 };

describe('OpenTelemetry spans (optional peer)', () => {
  it('traces execute() with outcome, source, attempt and status, never the key or the request', async () => {
    const table = uniqueTable();
    const store = await f.store({ table });
    const other = await f.store({ table, localCache: false });
    const handler = async () => ({ status: 201, body: { transferred: 40 } });

    const [miss] = await spansOf(() => store.execute(SECRET_KEY, REQUEST, handler));
    const [hit] = await spansOf(() => store.execute(SECRET_KEY, REQUEST, handler));
    const [replay] = await spansOf(() => other.execute(SECRET_KEY, REQUEST, handler));
    const [lruMismatch] = await spansOf(() => store.execute(SECRET_KEY, { ...REQUEST, amount: 41 }, handler));
    const [dbMismatch] = await spansOf(() => other.execute(SECRET_KEY, { ...REQUEST, amount: 41 }, handler));

    const base = { tracer: '@cxkit/idempotency', name: 'cxkit.idempotency.execute', ended: true };
    const attrs = (a: Record<string, unknown>) => ({ 'cxkit.idempotency.table': table, ...a });
    expect(miss).toEqual({
      ...base,
      attributes: attrs({
        'cxkit.idempotency.source': 'postgres',
        'cxkit.idempotency.outcome': 'miss',
        'cxkit.idempotency.attempt': 1,
        'cxkit.idempotency.status_code': 201,
      }),
    });
    expect(hit).toEqual({
      ...base,
      attributes: attrs({
        'cxkit.idempotency.source': 'lru',
        'cxkit.idempotency.outcome': 'hit',
        'cxkit.idempotency.status_code': 201,
      }),
    });
    expect(replay).toEqual({
      ...base,
      attributes: attrs({
        'cxkit.idempotency.source': 'postgres',
        'cxkit.idempotency.outcome': 'replay',
        'cxkit.idempotency.status_code': 201,
      }),
    });
    for (const [span, source] of [
      [lruMismatch, 'lru'],
      [dbMismatch, 'postgres'],
    ] as const) {
      expect(span).toMatchObject({
        ...base,
        attributes: attrs({
          'cxkit.idempotency.source': source,
          'cxkit.idempotency.outcome': 'mismatch',
          'cxkit.idempotency.status_code': 422,
        }),
        status: { code: 2 },
      });
      expect(span?.exception).toMatchObject({ name: 'IdempotencyKeyReusedError' });
    }
    const values = recorded.flatMap((r) => Object.values(r.attributes).map(String));
    expect(values.some((v) => v.includes('session-4711') || v.includes('ACC-991'))).toBe(false);
  });

  it('marks a handler failure as an error on the miss span, and the retry as attempt 2', async () => {
    const store = await f.store();
    const failed = await spansOf(() =>
      store.execute('k-fail', REQUEST, () => Promise.reject(new Error('handler failed'))),
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      name: 'cxkit.idempotency.execute',
      ended: true,
      attributes: { 'cxkit.idempotency.outcome': 'miss', 'cxkit.idempotency.attempt': 1 },
      status: { code: 2, message: 'handler failed' },
    });
    expect(failed[0]?.exception).toMatchObject({ message: 'handler failed' });
    expect(failed[0]?.attributes).not.toHaveProperty('cxkit.idempotency.status_code');

    const [retry] = await spansOf(() => store.execute('k-fail', REQUEST, async () => ({ status: 200 })));
    expect(retry?.attributes).toMatchObject({
      'cxkit.idempotency.outcome': 'miss',
      'cxkit.idempotency.attempt': 2,
      'cxkit.idempotency.status_code': 200,
    });
    expect(retry?.status).toBeUndefined();
  });

  it('tells a conflict (409) from another pod and a replay shared in-flight in this process', async () => {
    const table = uniqueTable();
    const a = await f.store({ table });
    const b = await f.store({ table });
    const gate = deferred();
    const started = deferred();
    const handler = async () => {
      started.resolve();
      await gate.promise;
      return { status: 202 };
    };
    const from = recorded.length;
    const leader = a.execute('k-busy', REQUEST, handler);
    const joiner = a.execute('k-busy', REQUEST, handler, { wait: 10_000 });
    await started.promise;
    const [conflict] = await spansOf(() => b.execute('k-busy', REQUEST, handler));
    gate.resolve();
    await Promise.all([leader, joiner]);
    expect(conflict).toMatchObject({
      attributes: {
        'cxkit.idempotency.source': 'postgres',
        'cxkit.idempotency.outcome': 'conflict',
        'cxkit.idempotency.status_code': 409,
      },
      status: { code: 2 },
    });
    const [leaderSpan, joinerSpan] = recorded.slice(from).filter((r) => r !== conflict);
    expect(leaderSpan?.attributes).toMatchObject({
      'cxkit.idempotency.source': 'postgres',
      'cxkit.idempotency.outcome': 'miss',
      'cxkit.idempotency.status_code': 202,
    });
    expect(joinerSpan?.attributes).toMatchObject({
      'cxkit.idempotency.source': 'in-flight',
      'cxkit.idempotency.outcome': 'replay',
      'cxkit.idempotency.status_code': 202,
    });
  });

  it('traces sweep() with what it deleted', async () => {
    const table = uniqueTable();
    const store = await f.store({ table });
    await store.execute('k-old', REQUEST, async () => ({ status: 200 }));
    await f.pool.query(`UPDATE "${table}" SET expires_at = now() - interval '1 second'`);
    const spans = await spansOf(() => store.sweep({ batchSize: 10 }));
    expect(spans).toEqual([
      {
        tracer: '@cxkit/idempotency',
        name: 'cxkit.idempotency.sweep',
        ended: true,
        attributes: {
          'cxkit.idempotency.table': table,
          'cxkit.idempotency.deleted': 1,
          'cxkit.idempotency.batches': 1,
        },
      },
    ]);
  });
});
