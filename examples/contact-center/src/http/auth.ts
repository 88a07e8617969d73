import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { ProblemError } from './problem.js';

/** Scopes from the seed's OAuth client, one per route family. */
export type Scope = 'session:read' | 'session:write' | 'webhooks:deliver' | 'agents:read';

export interface AuthOptions {
  /** HS256 shared key (at least 32 characters). */
  secret?: string;
  /** JWKS endpoint of the identity provider (RS256/ES256 keys, rotated by the provider). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export interface Principal {
  subject: string;
  scopes: Set<string>;
  claims: JWTPayload;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Verifies Bearer JWTs (shared key or JWKS) and hands out per-route scope guards. */
export class Authenticator {
  readonly #key: Uint8Array | JWTVerifyGetKey;
  readonly #options: AuthOptions;

  constructor(options: AuthOptions) {
    if (options.secret) this.#key = new TextEncoder().encode(options.secret);
    else if (options.jwksUrl) this.#key = createRemoteJWKSet(new URL(options.jwksUrl));
    else throw new TypeError('Authenticator: set secret or jwksUrl');
    this.#options = options;
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
    if (!match) throw new ProblemError(401, 'UNAUTHENTICATED', 'Bearer token required');
    try {
      const verifyOptions = {
        ...(this.#options.issuer ? { issuer: this.#options.issuer } : {}),
        ...(this.#options.audience ? { audience: this.#options.audience } : {}),
      };
      const { payload } =
        this.#key instanceof Uint8Array
          ? await jwtVerify(match[1]!, this.#key, { ...verifyOptions, algorithms: ['HS256'] })
          : await jwtVerify(match[1]!, this.#key, verifyOptions);
      const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
      return { subject: payload.sub ?? 'unknown', scopes, claims: payload };
    } catch (err) {
      if (!(this.#key instanceof Uint8Array) && keySetUnavailable(err)) {
        // The token was not judged: the keys to check it could not be had. A 401 would tell the platform
        // its credentials are wrong (it may stop delivering); this is ours and passes.
        throw new ProblemError(
          503,
          'AUTH_UNAVAILABLE',
          'Token verification unavailable',
          'the identity provider key set (JWKS_URL) could not be fetched; retry later',
        );
      }
      const reason = err instanceof joseErrors.JOSEError ? err.code : 'ERR_JWT_INVALID';
      throw new ProblemError(401, 'UNAUTHENTICATED', 'Invalid bearer token', reason);
    }
  }

  /** An `onRequest` hook: 401 without a valid token, 403 when the token lacks `scope`. */
  require(scope: Scope): onRequestHookHandler {
    return async (request: FastifyRequest) => {
      const principal = await this.verify(request.headers.authorization);
      if (!principal.scopes.has(scope)) {
        throw new ProblemError(403, 'FORBIDDEN', 'Insufficient scope', `this route needs scope ${scope}`, {
          required_scope: scope,
        });
      }
      request.principal = principal;
    };
  }
}

/**
 * Errors of fetching the JWKS (network failure, timeout, non-200 answer, unparsable or invalid key set),
 * as opposed to a verdict on the token (bad signature, unknown key id, expired, wrong issuer).
 */
function keySetUnavailable(err: unknown): boolean {
  if (!(err instanceof joseErrors.JOSEError)) return true;
  return (
    err.code === 'ERR_JWKS_TIMEOUT' || err.code === 'ERR_JOSE_GENERIC' || err.code === 'ERR_JWKS_INVALID'
  );
}
