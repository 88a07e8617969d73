import { z } from 'zod';
import { defaults } from './defaults.js';
import { InvalidIdempotencyKeyError } from './errors.js';
import { canonicalJson, sha256Hex } from './json.js';

// Visible ASCII only: keys travel in HTTP headers and log lines, so no spaces or control characters.
const KEY_CHARS = /^[\x21-\x7e]+$/;

/** Throws `InvalidIdempotencyKeyError` unless `key` is 1..255 visible ASCII characters. */
export function assertValidKey(
  key: unknown,
  maxLength: number = defaults.maxKeyLength,
): asserts key is string {
  if (typeof key !== 'string') throw new InvalidIdempotencyKeyError(`expected a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidIdempotencyKeyError('empty');
  if (key.length > maxLength)
    throw new InvalidIdempotencyKeyError(`${key.length} characters, at most ${maxLength}`);
  if (!KEY_CHARS.test(key))
    throw new InvalidIdempotencyKeyError('only visible ASCII characters (0x21-0x7e) are allowed');
}

/** Whether `key` would be accepted by `execute`. */
export function isValidIdempotencyKey(key: unknown): key is string {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

const identity = z.object({
  sessionId: z.string().min(1),
  operation: z.string().min(1),
  at: z.union([z.date(), z.number(), z.string()]),
});

export interface OperationIdentity {
  sessionId: string;
  operation: string;
  /** When the operation happened; truncated to the second, so retries within that second share a key. */
  at: Date | number | string;
}

/**
 * The seed's deterministic key: `sha256:` + hex of the operation identity, timestamp truncated to the
 * second. The same session, operation and second always give the same key on every pod and region.
 */
export function idempotencyKey(input: OperationIdentity): string {
  const parsed = identity.safeParse(input);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join('.') || 'input';
    throw new InvalidIdempotencyKeyError(`${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  const { sessionId, operation, at } = parsed.data;
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms)) throw new InvalidIdempotencyKeyError('at: not a valid time');
  const text = canonicalJson({ at: Math.floor(ms / 1000), operation, sessionId }) as string;
  return `sha256:${sha256Hex(text)}`;
}
