import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator } from '../src/http/auth.js';
import { isProblem } from './helpers/problem.js';

/** Tokens from an identity provider: RS256, keys published as a JWKS, issuer and audience checked. */
describe('Authenticator with a JWKS endpoint', () => {
  let server: Server;
  let url: string;
  let sign: (
    claims: { scope?: string; iss?: string; aud?: string },
    key?: CryptoKey,
    kid?: string,
  ) => Promise<string>;
  let otherKey: CryptoKey;
  const identityProvidersDown: Server[] = [];

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    sign = (claims, key = privateKey, kid = 'idp-key-1') =>
      new SignJWT({ scope: claims.scope ?? 'session:write' })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(claims.iss ?? 'https://login.example.com/')
        .setAudience(claims.aud ?? 'contact-center-middleware')
        .setSubject('genesys-integration')
        .setExpirationTime('5m')
        .sign(key);
  });

  afterAll(async () => {
    for (const s of identityProvidersDown) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const auth = () =>
    new Authenticator({
      jwksUrl: url,
      issuer: 'https://login.example.com/',
      audience: 'contact-center-middleware',
    });

  it('accepts a token signed with a published key and reads its scopes', async () => {
    const principal = await auth().verify(`Bearer ${await sign({ scope: 'session:write session:read' })}`);
    expect(principal.subject).toBe('genesys-integration');
    expect([...principal.scopes].sort()).toEqual(['session:read', 'session:write']);
  });

  it.each([
    ['signed with an unpublished key', () => sign({}, otherKey, 'idp-key-1')],
    ['with an unknown key id', () => sign({}, undefined, 'idp-key-9')],
    ['from another issuer', () => sign({ iss: 'https://evil.example.com/' })],
    ['for another audience', () => sign({ aud: 'billing-api' })],
  ])('rejects a token %s with 401', async (_what, make) => {
    const err = await auth()
      .verify(`Bearer ${await make()}`)
      .catch((e: unknown) => e);
    expect(isProblem(err, 401)).toBe(true);
  });

  it.each([
    [
      'does not answer (connection refused)',
      async () => {
        const down = createServer();
        down.listen(0, '127.0.0.1');
        await once(down, 'listening');
        const port = (down.address() as AddressInfo).port;
        await new Promise((resolve) => down.close(resolve));
        return `http://127.0.0.1:${port}/.well-known/jwks.json`;
      },
    ],
    [
      'answers 502',
      async () => {
        const failing = createServer((_req, res) => res.writeHead(502).end('bad gateway'));
        identityProvidersDown.push(failing);
        failing.listen(0, '127.0.0.1');
        await once(failing, 'listening');
        return `http://127.0.0.1:${(failing.address() as AddressInfo).port}/.well-known/jwks.json`;
      },
    ],
  ])(
    'answers 503 (not 401) while the JWKS endpoint %s: the token may well be valid',
    async (_what, jwksUrl) => {
      const unavailable = new Authenticator({
        jwksUrl: await jwksUrl(),
        issuer: 'https://login.example.com/',
        audience: 'contact-center-middleware',
      });
      const err = await unavailable.verify(`Bearer ${await sign({})}`).catch((e: unknown) => e);
      expect(isProblem(err, 503)).toBe(true);
      // A malformed token is still the caller's fault.
      expect(isProblem(await unavailable.verify('Bearer a.b.c').catch((e: unknown) => e), 401)).toBe(true);
    },
  );
});
