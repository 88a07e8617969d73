import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IdempotencyStore,
  isInvalidIdempotencyKeyError,
  isInvalidRequestError,
  isInvalidResponseError,
  isResponseTooLargeError,
} from '../src/index.js';
import { type Fixture, fixture } from './helpers.js';

let f: Fixture;
let store: IdempotencyStore;
beforeAll(async () => {
  f = await fixture();
  store = await f.store({ maxResponseBytes: 1_000 });
});
afterAll(() => f.close());

async function rows() {
  const { rows } = await f.pool.query(
    `SELECT key, state, response_status, response_body FROM "${store.options.table}" ORDER BY key`,
  );
  return rows;
}

describe('bad input: clear errors, nothing written', () => {
  it('malformed keys are rejected before any query', async () => {
    let runs = 0;
    const handler = async () => ({ status: 200, body: ++runs });
    for (const key of ['', 'has space', 'tab\there', 'ünïcode', 'x'.repeat(256), 42, undefined, null]) {
      const err = await store.execute(key as string, {}, handler).catch((e) => e);
      expect(isInvalidIdempotencyKeyError(err), String(key)).toBe(true);
      expect(err.status).toBe(400);
    }
    expect(runs).toBe(0);
    expect(await rows()).toEqual([]);
  });

  it('requests that are not JSON cannot be fingerprinted', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const cases: [unknown, RegExp][] = [
      [{ amount: 10n }, /\$\.amount: bigint/],
      [{ cb: () => 1 }, /\$\.cb: function/],
      [circular, /\$\.self: circular/],
      [{ at: new Date() }, /\$\.at: Date/],
      [{ n: Number.NaN }, /\$\.n: NaN/],
      [[1, undefined], /\$\[1\]: undefined/],
      [new Map(), /\$: Map/],
    ];
    let runs = 0;
    for (const [request, message] of cases) {
      const err = await store.execute('req-key', request, async () => ({ body: ++runs })).catch((e) => e);
      expect(isInvalidRequestError(err)).toBe(true);
      expect(err.message).toMatch(message);
    }
    expect(runs).toBe(0);
    expect(await rows()).toEqual([]);
  });

  it('bad execute options are rejected before any query', async () => {
    await expect(store.execute('opt', {}, async () => ({}), { fence: 1.5 })).rejects.toThrow(/fence/);
    await expect(store.execute('opt', {}, async () => ({}), { wait: -1 })).rejects.toThrow(/wait/);
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(store.execute('opt', {}, async () => ({}), { signal: ac.signal })).rejects.toThrow('gone');
    expect(await rows()).toEqual([]);
  });

  it('oversized and non-JSON responses are not stored and the key stays retryable', async () => {
    const big = await store
      .execute('big', {}, async () => ({ status: 200, body: 'x'.repeat(2_000) }))
      .catch((e) => e);
    expect(isResponseTooLargeError(big)).toBe(true);
    expect(big).toMatchObject({ maxBytes: 1_000 });
    expect(big.bytes).toBeGreaterThan(2_000);

    const cases: [unknown, RegExp][] = [
      [{ status: 200, body: { total: 5n } }, /response\.body\.total: bigint/],
      [{ status: 200, body: { at: new Date() } }, /response\.body\.at: Date/],
      [{ status: 200, extra: 1 }, /response\.extra: unknown field/],
      [{ status: 99 }, /response\.status/],
      [{ headers: { 'x-n': 1 } }, /response\.headers\.x-n/],
      ['plain string', /expected an object/],
    ];
    for (const [response, message] of cases) {
      const err = await store.execute('nonjson', {}, async () => response as never).catch((e) => e);
      expect(isInvalidResponseError(err)).toBe(true);
      expect(err.message).toMatch(message);
    }
    // Nothing was stored for either key: both are released (state failed, no response).
    expect(await rows()).toEqual([
      { key: 'big', state: 'failed', response_status: null, response_body: null },
      { key: 'nonjson', state: 'failed', response_status: null, response_body: null },
    ]);
    const retry = await store.execute('big', {}, async () => ({ status: 200, body: 'small' }));
    expect(retry).toEqual({ replayed: false, response: { status: 200, body: 'small' } });
  });
});
