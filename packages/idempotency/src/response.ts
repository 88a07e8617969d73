import { InvalidResponseError, ResponseTooLargeError } from './errors.js';
import { canonicalJson } from './json.js';

/** What a handler returns and what a replay gives back: status, headers and a JSON body. */
export interface IdempotentResponse<B = unknown> {
  /** HTTP-style status; 5xx releases the key by default, absent counts as success. */
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: B;
}

/** A response checked for JSON and size, with the texts that go into the row. */
export interface SerializedResponse {
  status: number | null;
  headers: string | null;
  body: string | null;
  bytes: number;
}

const ALLOWED = new Set(['status', 'headers', 'body']);

function asJson(value: unknown, path: string): string {
  // One walk validates and serializes; keys come back sorted (the same JSON, canonical form).
  const text = canonicalJson(value);
  if (typeof text !== 'string') throw new InvalidResponseError(text.path.replace('$', path), text.reason);
  return text;
}

/** Validates `response` and serializes it, throwing before anything is written. */
export function serializeResponse(response: unknown, maxBytes: number): SerializedResponse {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) {
    throw new InvalidResponseError('response', 'expected an object { status?, headers?, body? }');
  }
  const r = response as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!ALLOWED.has(k) && r[k] !== undefined)
      throw new InvalidResponseError(`response.${k}`, 'unknown field');
  }
  const { status, headers, body } = r;
  if (
    status !== undefined &&
    (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599)
  ) {
    throw new InvalidResponseError('response.status', 'expected an integer from 100 to 599');
  }
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw new InvalidResponseError('response.headers', 'expected an object of strings');
    }
    for (const [name, v] of Object.entries(headers)) {
      const ok = typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!ok) throw new InvalidResponseError(`response.headers.${name}`, 'expected a string or string[]');
    }
  }
  const out: SerializedResponse = {
    status: (status as number | undefined) ?? null,
    headers: headers === undefined ? null : asJson(headers, 'response.headers'),
    body: body === undefined ? null : asJson(body, 'response.body'),
    bytes: 0,
  };
  out.bytes = 16 + Buffer.byteLength(out.headers ?? '') + Buffer.byteLength(out.body ?? '');
  if (out.bytes > maxBytes) throw new ResponseTooLargeError(out.bytes, maxBytes);
  return out;
}

/** Rebuilds the response from the row's columns (texts, so `null` and absent stay distinct). */
export function deserializeResponse(
  status: number | null,
  headers: string | null,
  body: string | null,
): IdempotentResponse {
  const out: IdempotentResponse = {};
  if (status !== null) out.status = status;
  if (headers !== null) out.headers = JSON.parse(headers);
  if (body !== null) out.body = JSON.parse(body);
  return out;
}

/** Whether the failure policy treats `response` as a failed run (5xx). */
export function isServerError(response: IdempotentResponse): boolean {
  return typeof response.status === 'number' && response.status >= 500;
}
