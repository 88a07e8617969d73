import { createServer, request as httpRequest } from 'node:http';
import { freePort } from '@cxkit/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../src/config.js';
import { lockRequest } from '../src/demo/payloads.js';
import { FORWARDED_HEADER, isPeer, peerUrl, wireToken } from '../src/http/lock-owner.js';
import { startTestRegion, type TestRegion, waitForLockQuorum } from './helpers/in-process-region.js';

/** Three pods of one region behind a load balancer: a lock's heartbeat and release may land on any. */
let owner: TestRegion;
let peer: TestRegion;
let cutOff: TestRegion;
const forwardedTo: string[] = [];

let peerPort: number;

beforeAll(async () => {
  const port = await freePort();
  const template = `http://{pod}:${port}`;
  owner = await startTestRegion({ POD_NAME: 'localhost', PEER_URL_TEMPLATE: template });
  await owner.app.listen({ port, host: 'localhost' });
  owner.app.server.on('request', (request) => {
    const by = request.headers[FORWARDED_HEADER];
    if (typeof by === 'string') forwardedTo.push(`${by} ${request.url}`);
  });
  const servers = { redis: owner.redis, pg: owner.pg, secret: owner.secret };
  peer = await startTestRegion({ POD_NAME: 'pod-b', PEER_URL_TEMPLATE: template }, servers);
  peerPort = await freePort();
  await peer.app.listen({ port: peerPort, host: '127.0.0.1' });
  // Its peers are unreachable (nothing listens on that port).
  cutOff = await startTestRegion(
    { POD_NAME: 'pod-c', PEER_URL_TEMPLATE: `http://{pod}:${await freePort()}` },
    servers,
  );
  await waitForLockQuorum(owner);
}, 120_000);

afterAll(async () => {
  await cutOff?.stop();
  await peer?.stop();
  await owner?.stop();
}, 60_000);

const post = (region: TestRegion, url: string, body: unknown) =>
  region.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${region.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });

it('a heartbeat and a release that land on another pod are forwarded to the pod that granted the lock', async () => {
  const acquired = await post(
    owner,
    '/api/v1/state/locks/acquire',
    lockRequest('session_fwd_1', 'us-east-1', 5000),
  );
  expect(acquired.statusCode, acquired.body).toBe(200);
  const { lock_token, fence } = acquired.json();
  expect(lock_token).toMatch(/^localhost~/);

  const hb = await post(peer, '/api/v1/state/locks/heartbeat', {
    resource_id: 'session_fwd_1',
    lock_token,
    lock_ttl_ms: 5000,
  });
  expect(hb.statusCode, hb.body).toBe(200);
  expect(hb.json()).toMatchObject({ resource_id: 'session_fwd_1', lock_token, fence });

  const released = await post(peer, '/api/v1/state/locks/release', {
    resource_id: 'session_fwd_1',
    lock_token,
  });
  expect(released.json()).toMatchObject({ released: true });
  expect((await owner.resources.ctx.locks.inspect('session_fwd_1')).holder).toBeUndefined();

  // Released: the owner answers the forwarded heartbeat 409, and the peer passes that on.
  const late = await post(peer, '/api/v1/state/locks/heartbeat', {
    resource_id: 'session_fwd_1',
    lock_token,
  });
  expect(late.statusCode).toBe(409);
  expect(late.headers['content-type']).toContain('application/problem+json');
  expect(late.json().code).toBe('LOCK_NOT_HELD');
  expect(forwardedTo).toEqual([
    'pod-b /api/v1/state/locks/heartbeat',
    'pod-b /api/v1/state/locks/release',
    'pod-b /api/v1/state/locks/heartbeat',
  ]);
});

it('a lock whose pod cannot be reached is not held (409); a token naming no pod is never forwarded', async () => {
  forwardedTo.length = 0;
  const acquired = await post(
    owner,
    '/api/v1/state/locks/acquire',
    lockRequest('session_fwd_2', 'us-east-1', 5000),
  );
  const { lock_token } = acquired.json();
  const started = performance.now();
  const cut = await post(cutOff, '/api/v1/state/locks/heartbeat', {
    resource_id: 'session_fwd_2',
    lock_token,
  });
  expect(cut.statusCode).toBe(409);
  expect(cut.json()).toMatchObject({ code: 'LOCK_NOT_HELD', resource_id: 'session_fwd_2' });
  expect(cut.json().detail).toContain('localhost');
  expect(performance.now() - started).toBeLessThan(2_500);
  // Still held by its pod, which keeps heartbeating it.
  expect((await owner.resources.ctx.locks.inspect('session_fwd_2')).holder?.token).toBe(
    lock_token.split('~')[1],
  );

  // Not a DNS label: never put into a peer URL (a crafted token must not send credentials elsewhere).
  for (const crafted of [`evil.example.com:80~${lock_token}`, `a/b~${lock_token}`, `~${lock_token}`]) {
    const res = await post(peer, '/api/v1/state/locks/release', {
      resource_id: 'session_fwd_2',
      lock_token: crafted,
    });
    expect(res.statusCode).toBe(409);
  }
  expect(forwardedTo).toEqual([]);
  const released = await post(peer, '/api/v1/state/locks/release', {
    resource_id: 'session_fwd_2',
    lock_token,
  });
  expect(released.json()).toMatchObject({ released: true });
});

it('a request target naming another host (absolute form) is still forwarded to the owner pod only', async () => {
  forwardedTo.length = 0;
  const trapped: string[] = [];
  const trap = createServer((req, res) => {
    trapped.push(`${req.headers.authorization}`);
    res.end('{}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const trapPort = (trap.address() as { port: number }).port;
  try {
    const acquired = await post(
      owner,
      '/api/v1/state/locks/acquire',
      lockRequest('session_fwd_3', 'us-east-1', 5000),
    );
    const { lock_token } = acquired.json();
    // POST http://127.0.0.1:<trap>/api/v1/state/locks/release HTTP/1.1, sent to the peer pod.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: peerPort,
          method: 'POST',
          path: `http://127.0.0.1:${trapPort}/api/v1/state/locks/release`,
          headers: { authorization: `Bearer ${peer.token}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ resource_id: 'session_fwd_3', lock_token }));
    });
    expect(status).toBe(200);
    expect(trapped).toEqual([]);
    expect(forwardedTo).toEqual(['pod-b /api/v1/state/locks/release']);
    expect((await owner.resources.ctx.locks.inspect('session_fwd_3')).holder).toBeUndefined();
  } finally {
    await new Promise((resolve) => trap.close(resolve));
  }
});

it('a StatefulSet pod forwards only to pods of its own set, at the route path of the template origin', () => {
  expect(isPeer('contact-center-1', 'contact-center-2')).toBe(true);
  expect(isPeer('contact-center-1', 'contact-center-12')).toBe(true);
  for (const other of [
    'redis-lock',
    'redis-lock-0',
    'contact-center',
    'contact-center-x',
    'contact-center-1-0',
  ])
    expect(isPeer('contact-center-1', other)).toBe(false);
  // Outside a StatefulSet (no ordinal) any pod name is a peer.
  expect(isPeer('localhost', 'pod-b')).toBe(true);
  expect(peerUrl('http://{pod}.cc:8080', 'cc-0', '/api/v1/state/locks/release').href).toBe(
    'http://cc-0.cc:8080/api/v1/state/locks/release',
  );
  expect(() => peerUrl('http://{pod}.cc:8080', 'cc-0', '//evil.example/x')).toThrow(TypeError);
  // Bare tokens while forwarding is off: pods of an earlier version compare a caller's token whole.
  expect(wireToken({ self: 'cc-0', peerUrlTemplate: '' }, 'abc')).toBe('abc');
  expect(wireToken({ self: 'cc-0', peerUrlTemplate: 'http://{pod}:1' }, 'abc')).toBe('cc-0~abc');
});

it('start-up refuses a POD_NAME that is not one DNS label and a PEER_URL_TEMPLATE without {pod}, naming them', () => {
  const base = {
    REGION: 'us-east-1',
    DATABASE_URL: 'postgres://localhost/test',
    REDIS_URL: 'redis://localhost:6379',
    JWT_SECRET: 'x'.repeat(32),
  };
  const variables = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      return (err as ConfigError).issues.map((i) => i.variable);
    }
    return [];
  };
  expect(variables({ POD_NAME: 'Pod.A' })).toEqual(['POD_NAME']);
  expect(variables({ POD_NAME: 'a~b' })).toEqual(['POD_NAME']);
  expect(variables({ PEER_URL_TEMPLATE: 'http://contact-center:8080' })).toEqual(['PEER_URL_TEMPLATE']);
  expect(variables({ PEER_URL_TEMPLATE: '{pod}' })).toEqual(['PEER_URL_TEMPLATE']);
  expect(variables({ PEER_URL_TEMPLATE: 'http://cc:8080/{pod}' })).toEqual(['PEER_URL_TEMPLATE']);
  expect(variables({ PEER_URL_TEMPLATE: 'http://{pod}.cc:8080/prefix' })).toEqual(['PEER_URL_TEMPLATE']);
  expect(variables({ PEER_URL_TEMPLATE: 'ftp://{pod}.cc' })).toEqual(['PEER_URL_TEMPLATE']);
  expect(variables({ POD_NAME: 'contact-center-2', PEER_URL_TEMPLATE: 'http://{pod}.cc:8080' })).toEqual([]);
  expect(loadConfig(base).POD_NAME).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
});
