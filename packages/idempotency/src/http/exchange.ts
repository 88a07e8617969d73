import { createHash } from 'node:crypto';
import { InvalidIdempotencyKeyError, isIdempotencyError } from '../errors.js';
import { assertValidKey } from '../key.js';
import type { IdempotentResponse } from '../response.js';
import type { ResolvedHttpOptions } from './options.js';

/** A stored HTTP body: text as is, anything else base64, so replays are byte-identical. */
export interface StoredBody {
  encoding: 'utf8' | 'base64';
  data: string;
}

export type HttpResponse = IdempotentResponse<StoredBody>;

/** What the adapter does with a request after looking at its key. */
export type Decision =
  | { kind: 'pass' }
  | {
      kind: 'run';
      capture(response: HttpResponse): void;
      abandon(reason: Error): void;
      stored: Promise<unknown>;
    }
  | { kind: 'replay'; response: HttpResponse }
  | { kind: 'problem'; status: number; headers: Record<string, string>; body: string };

// Hop-by-hop and per-message headers that must not be replayed verbatim.
const NOT_STORED = new Set([
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'idempotent-replayed',
]);

export function storableHeaders(headers: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (NOT_STORED.has(name.toLowerCase()) || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

export function encodeBody(payload: unknown): StoredBody {
  if (payload === undefined || payload === null) return { encoding: 'utf8', data: '' };
  if (typeof payload === 'string') return { encoding: 'utf8', data: payload };
  if (Buffer.isBuffer(payload)) return { encoding: 'base64', data: payload.toString('base64') };
  throw new TypeError('streamed response bodies cannot be stored for replay');
}

export function decodeBody(body: StoredBody | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  return Buffer.from(body.data, body.encoding);
}

/** application/problem+json (RFC 9457) for an idempotency error; other errors are rethrown. */
export function problem(err: unknown): Extract<Decision, { kind: 'problem' }> {
  if (!isIdempotencyError(err)) throw err;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  const retryAfterMs = (err as { retryAfterMs?: number }).retryAfterMs;
  if (retryAfterMs !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  const body = JSON.stringify({
    type: `urn:cxkit:idempotency:${err.code.toLowerCase()}`,
    title: err.name,
    status: err.status,
    detail: err.message,
    code: err.code,
  });
  return { kind: 'problem', status: err.status, headers, body };
}

/** The store key: method + route (+ tenant) + the client's key, hashed so any route text fits. */
export function scopedKey(method: string, route: string, tenant: string | undefined, key: string): string {
  const scope = JSON.stringify([method, route, tenant ?? null, key]);
  return `http:${createHash('sha256').update(scope).digest('hex')}`;
}

/**
 * The answer to a request whose body was never parsed (express with no body parser before the
 * middleware): fingerprinting it as no body would replay one payload's response to another.
 */
const UNPARSED: Extract<Decision, { kind: 'problem' }> = {
  kind: 'problem',
  status: 500,
  headers: { 'content-type': 'application/problem+json' },
  body: JSON.stringify({
    type: 'urn:cxkit:idempotency:idempotency_body_not_parsed',
    title: 'IdempotencyBodyNotParsed',
    status: 500,
    detail:
      'the request has a body but it was not parsed: mount a body parser (e.g. express.json()) before the idempotency middleware',
    code: 'IDEMPOTENCY_BODY_NOT_PARSED',
  }),
};

/** Reads the key and asks the store; resolves once the route should run, a replay or an error is known. */
export async function decide<Req>(
  options: ResolvedHttpOptions<Req>,
  req: Req,
  exchange: { method: string; route: string; headerValue: unknown; body: unknown; unparsed?: boolean },
): Promise<Decision> {
  if (!options.methods.has(exchange.method)) return { kind: 'pass' };
  const raw = exchange.headerValue;
  if (raw === undefined) {
    return options.required
      ? problem(new InvalidIdempotencyKeyError(`missing ${options.header} header`))
      : { kind: 'pass' };
  }
  try {
    if (Array.isArray(raw)) throw new InvalidIdempotencyKeyError(`more than one ${options.header} header`);
    assertValidKey(raw);
    if (exchange.unparsed) return UNPARSED;
    const key = scopedKey(exchange.method, exchange.route, options.tenant?.(req), raw);
    const body = Buffer.isBuffer(exchange.body) ? exchange.body.toString('base64') : exchange.body;
    const request = { method: exchange.method, route: exchange.route, body: body ?? null };
    let capture!: (r: HttpResponse) => void;
    let abandon!: (e: Error) => void;
    const captured = new Promise<HttpResponse>((resolve, reject) => {
      capture = resolve;
      abandon = reject;
    });
    let started!: () => void;
    const running = new Promise<null>((resolve) => {
      started = () => resolve(null);
    });
    const stored = options.store.execute(
      key,
      request,
      () => {
        started();
        return captured;
      },
      { wait: options.wait },
    );
    stored.catch(() => undefined); // observed by the caller once the route has run
    const first = await Promise.race([running, stored]);
    if (first === null) return { kind: 'run', capture, abandon, stored };
    return { kind: 'replay', response: first.response as HttpResponse };
  } catch (err) {
    return problem(err);
  }
}
