import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotency, isConfigError } from '../src/express.js';
import type { IdempotencyStore } from '../src/index.js';
import { deferred, type Fixture, fixture, sleep } from './helpers.js';

let f: Fixture;
let server: Server;
let base: string;
let store: IdempotencyStore;
const runs = { charges: 0, slow: 0, flaky: 0, webhook: 0 };
const gate = deferred();
const webhookGate = deferred();

beforeAll(async () => {
  f = await fixture();
  store = await f.store();
  const app = express();
  app.use(express.json());
  const guard = idempotency({ store, required: true });
  app.post('/charges/:id', guard, (req, res) => {
    runs.charges++;
    res
      .status(201)
      .set('x-charge', `ch-${runs.charges}`)
      .json({ charge: runs.charges, id: req.params.id, body: req.body });
  });
  app.post('/slow', guard, async (_req, res) => {
    runs.slow++;
    await gate.promise;
    res.json({ slow: true });
  });
  app.post('/flaky', guard, (_req, res) => {
    runs.flaky++;
    if (runs.flaky === 1) throw new Error('downstream timeout');
    res.json({ attempt: runs.flaky });
  });
  app.post('/webhook', guard, async (_req, res) => {
    runs.webhook++;
    await webhookGate.promise;
    res.status(201).json({ written: runs.webhook });
  });
  // Not UTF-8: 'café' in windows-1252 (0xE9 is no UTF-8 sequence on its own).
  app.post('/latin', guard, (_req, res) => {
    res.type('text/csv; charset=windows-1252').end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  });
  app.post('/chunks', guard, (_req, res) => {
    res.type('text/plain');
    res.write('part-1;');
    res.end('part-2');
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await f.close();
});

const post = (path: string, key: string | undefined, body: object) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });

describe('express middleware over a real HTTP server', () => {
  it('runs once, replays status + headers + body with Idempotent-Replayed, scoped by route pattern', async () => {
    const first = await post('/charges/1', 'k1', { amount: 10 });
    expect(first.status).toBe(201);
    const firstBody = await first.text();
    const second = await post('/charges/1', 'k1', { amount: 10 });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('x-charge')).toBe('ch-1');
    expect(second.headers.get('content-type')).toMatch(/application\/json/);
    expect(await second.text()).toBe(firstBody);
    // Same pattern, other id: the request body fingerprint includes only the body, the route is the pattern.
    const otherId = await post('/charges/2', 'k1', { amount: 10 });
    expect(otherId.headers.get('idempotent-replayed')).toBe('true');
    expect(runs.charges).toBe(1);
  });

  it('400 for missing or malformed keys, 422 for reuse with another body (problem+json)', async () => {
    const missing = await post('/charges/1', undefined, { amount: 10 });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await missing.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    expect((await post('/charges/1', 'x'.repeat(300), { amount: 10 })).status).toBe(400);
    const reused = await post('/charges/1', 'k1', { amount: 99 });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
    expect(runs.charges).toBe(1);
  });

  it('409 + Retry-After while in progress; thrown errors (500) release the key', async () => {
    const first = post('/slow', 's1', {});
    while (runs.slow === 0) await new Promise((r) => setTimeout(r, 10));
    const conflict = await post('/slow', 's1', {});
    expect(conflict.status).toBe(409);
    expect(Number(conflict.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    gate.resolve();
    expect((await first).status).toBe(200);

    expect((await post('/flaky', 'f1', {})).status).toBe(500);
    const retry = await post('/flaky', 'f1', {});
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ attempt: 2 });
  });

  it('a client that gives up mid-run does not release the key: its retry gets 409, then the stored response', async () => {
    const sender = new AbortController();
    const first = fetch(`${base}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'w1' },
      body: '{}',
      signal: sender.signal,
    }).catch((e: unknown) => e);
    while (runs.webhook === 0) await new Promise((r) => setTimeout(r, 10));
    sender.abort(); // the platform's delivery timeout: the socket closes while the route still runs
    expect(await first).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    const retry = await Promise.race([post('/webhook', 'w1', {}), sleep(1_000)]);
    webhookGate.resolve();
    expect((retry as Response | undefined)?.status).toBe(409);
    await expect.poll(async () => (await post('/webhook', 'w1', {})).status).toBe(201);
    const replay = await post('/webhook', 'w1', {});
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual({ written: 1 });
    expect(runs.webhook).toBe(1);
  });

  it('without a body parser in front, a request with a body is answered 500 naming the fix, not fingerprinted', async () => {
    const bare = express(); // no express.json() before the middleware
    let ran = 0;
    bare.post('/crm', idempotency({ store, required: true }), express.json(), (req, res) => {
      ran++;
      res.status(201).json({ stored: req.body ?? null });
    });
    const app = bare.listen(0, '127.0.0.1');
    await new Promise((r) => app.once('listening', r));
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/crm`;
    const send = (key: string, body?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        ...(body === undefined ? {} : { body }),
      });
    try {
      const first = await send('b1', '{"amount":10}');
      expect(first.status).toBe(500);
      expect(first.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await first.json()).detail).toMatch(/body parser.*before/);
      expect((await send('b1', '{"amount":9999}')).status).toBe(500);
      expect(ran).toBe(0);
      // No body at all: nothing to parse, the route runs and replays as usual.
      expect((await send('b2')).status).toBe(201);
      expect((await send('b2')).headers.get('idempotent-replayed')).toBe('true');
      expect(ran).toBe(1);
    } finally {
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('buffers written chunks and replays them byte for byte', async () => {
    const a = await post('/chunks', 'c1', {});
    const b = await post('/chunks', 'c1', {});
    expect(await a.text()).toBe('part-1;part-2');
    expect(await b.text()).toBe('part-1;part-2');
    expect(b.headers.get('idempotent-replayed')).toBe('true');
  });

  it('replays a text body in another charset byte for byte', async () => {
    const a = Buffer.from(await (await post('/latin', 'l1', {})).arrayBuffer());
    const replay = await post('/latin', 'l1', {});
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect([...Buffer.from(await replay.arrayBuffer())]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    expect([...a]).toEqual([0x63, 0x61, 0x66, 0xe9]);
  });

  it('rejects bad adapter options with a ConfigError naming the field', () => {
    for (const [options, field] of [
      [{ store: {} }, 'store'],
      [{ store, methods: [] }, 'methods'],
      [{ store, header: 'bad header' }, 'header'],
      [{ store, wait: -1 }, 'wait'],
    ] as const) {
      let caught: unknown;
      try {
        idempotency(options as never);
      } catch (err) {
        caught = err;
      }
      expect(isConfigError(caught)).toBe(true);
      expect((caught as { field: string }).field).toBe(field);
    }
  });
});
