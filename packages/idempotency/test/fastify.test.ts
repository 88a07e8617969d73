import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyPlugin } from '../src/fastify.js';
import type { IdempotencyStore } from '../src/index.js';
import { deferred, type Fixture, fixture, sleep } from './helpers.js';

let f: Fixture;
let app: FastifyInstance;
let store: IdempotencyStore;
const runs = { orders: 0, flaky: 0, slow: 0 };
const gate = deferred();

beforeAll(async () => {
  f = await fixture();
  store = await f.store();
  app = Fastify();
  await app.register(idempotencyPlugin, {
    store,
    required: true,
    tenant: (req) => req.headers['x-tenant'] as string | undefined,
  });
  app.post('/orders', async (req, reply) => {
    runs.orders++;
    reply.code(201).header('x-order-id', `ord-${runs.orders}`);
    return { id: runs.orders, received: req.body };
  });
  app.post('/flaky', async () => {
    runs.flaky++;
    if (runs.flaky === 1) throw new Error('downstream timeout');
    return { ok: true, attempt: runs.flaky };
  });
  app.post('/slow', async () => {
    runs.slow++;
    await gate.promise;
    return { slow: true };
  });
  app.post('/text', async (_req, reply) => reply.type('text/plain').send('plain text'));
  app.get('/orders', async () => ({ list: [] }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await f.close();
});

const post = (url: string, key: string | undefined, payload: object, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    payload,
    headers: { ...(key ? { 'idempotency-key': key } : {}), ...headers },
  });

describe('fastify plugin', () => {
  it('runs the route once and replays status, headers and body with Idempotent-Replayed', async () => {
    const first = await post('/orders', 'key-1', { sku: 'A', qty: 1 });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await post('/orders', 'key-1', { qty: 1, sku: 'A' });
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['x-order-id']).toBe('ord-1');
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.body).toBe(first.body);
    expect(runs.orders).toBe(1);
  });

  it('400 problem+json when the key is missing or malformed; nothing runs', async () => {
    const before = runs.orders;
    const missing = await post('/orders', undefined, { sku: 'A' });
    expect(missing.statusCode).toBe(400);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(missing.json()).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_INVALID' });
    const bad = await post('/orders', 'has space', { sku: 'A' });
    expect(bad.statusCode).toBe(400);
    expect(runs.orders).toBe(before);
  });

  it('422 problem+json on reuse with a different body; the stored response is unchanged', async () => {
    await post('/orders', 'key-2', { sku: 'B' });
    const reused = await post('/orders', 'key-2', { sku: 'C' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
    const replay = await post('/orders', 'key-2', { sku: 'B' });
    expect(replay.json().received).toEqual({ sku: 'B' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('409 with Retry-After while the first request is still running', async () => {
    const first = post('/slow', 'key-3', {});
    while (runs.slow === 0) await new Promise((r) => setTimeout(r, 10));
    const conflict = await post('/slow', 'key-3', {});
    expect(conflict.statusCode).toBe(409);
    expect(Number(conflict.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(conflict.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    gate.resolve();
    expect((await first).statusCode).toBe(200);
    expect((await post('/slow', 'key-3', {})).headers['idempotent-replayed']).toBe('true');
    expect(runs.slow).toBe(1);
  });

  it('a 500 releases the key: the retry runs the route again', async () => {
    const failed = await post('/flaky', 'key-4', { n: 1 });
    expect(failed.statusCode).toBe(500);
    const retried = await post('/flaky', 'key-4', { n: 1 });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toEqual({ ok: true, attempt: 2 });
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('scopes keys by route and tenant; non-POST methods pass through; text bodies replay byte for byte', async () => {
    const a = await post('/orders', 'shared', { sku: 'Z' }, { 'x-tenant': 't1' });
    const b = await post('/orders', 'shared', { sku: 'Z' }, { 'x-tenant': 't2' });
    expect(a.json().id).not.toBe(b.json().id);
    const t1 = await post('/text', 'shared', {}, { 'x-tenant': 't1' });
    const t2 = await post('/text', 'shared', {}, { 'x-tenant': 't1' });
    expect(t1.body).toBe('plain text');
    expect(t2.body).toBe('plain text');
    expect(t2.headers['content-type']).toMatch(/text\/plain/);
    expect(t2.headers['idempotent-replayed']).toBe('true');
    const list = await app.inject({ method: 'GET', url: '/orders' });
    expect(list.statusCode).toBe(200);
  });

  it('a client that gives up on a bodiless POST mid-run does not release the key: its retry gets 409, then the stored response', async () => {
    const own = Fastify();
    const held = deferred();
    let runs = 0;
    await own.register(idempotencyPlugin, { store });
    // No body: fastify never reads the request stream, so the socket's close counts as an abort.
    own.post('/calls/:id/hangup', async (_req, reply) => {
      runs++;
      await held.promise;
      return reply.code(201).send({ hungUp: runs });
    });
    await own.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(own.server.address() as AddressInfo).port}/calls/7/hangup`;
    const send = (signal?: AbortSignal) =>
      fetch(url, { method: 'POST', headers: { 'idempotency-key': 'h1' }, ...(signal ? { signal } : {}) });
    try {
      const sender = new AbortController();
      const first = send(sender.signal).catch((e: unknown) => e);
      while (runs === 0) await sleep(10);
      sender.abort(); // the platform's delivery timeout: the socket closes while the route still runs
      expect(await first).toBeInstanceOf(Error);
      await sleep(100);
      const retry = await Promise.race([send(), sleep(1_000)]);
      held.resolve();
      expect((retry as Response | undefined)?.status).toBe(409);
      await expect.poll(async () => (await send()).status).toBe(201);
      const replay = await send();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.json()).toEqual({ hungUp: 1 });
      expect(runs).toBe(1);
    } finally {
      held.resolve();
      own.server.closeAllConnections();
      await own.close();
    }
  });
});
