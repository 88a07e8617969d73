import * as crypto from 'node:crypto';
import { explainJson, isPlainObject, type JsonProblem, MAX_DEPTH } from './json-explain.js';

export type { JsonProblem };

/** Version of the fingerprint algorithm stored beside each fingerprint, so it can change later. */
export const FINGERPRINT_VERSION = 1;

/**
 * Serializes plain JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` give the same
 * text. Rejects what JSON.stringify would silently change (BigInt, NaN, Date, Map, class instances,
 * cycles, undefined in arrays) instead of fingerprinting something the caller did not send.
 */
export function canonicalJson(value: unknown): string | JsonProblem {
  // Fast walk without path bookkeeping; only a rejected value pays for the descriptive one.
  return canonical(value === undefined ? null : value, []) ?? explainJson(value);
}

// What JSON.stringify escapes in a string (quote, backslash, control characters) or may (surrogates).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without calling it for the common string that needs no escaping. */
const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** Canonical text of `v`, or undefined when it is not plain JSON. `path` holds the open objects. */
function canonical(v: unknown, path: object[]): string | undefined {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      break;
    default:
      return undefined;
  }
  if (path.length >= MAX_DEPTH || path.includes(v)) return undefined;
  path.push(v);
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (let i = 0; i < v.length; i++) {
      const item = v[i] === undefined ? undefined : canonical(v[i], path);
      if (item === undefined) return undefined;
      out += i === 0 ? item : `,${item}`;
    }
    out += ']';
  } else {
    if (!isPlainObject(v)) return undefined;
    out = '{';
    const keys = Object.keys(v).sort();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const child = (v as Record<string, unknown>)[k];
      if (child === undefined) continue; // JSON drops undefined properties; so do we
      const text = canonical(child, path);
      if (text === undefined) return undefined;
      out += `${out.length === 1 ? '' : ','}${quote(k)}:${text}`;
    }
    out += '}';
  }
  path.pop();
  return out;
}

// One-shot hashing (Node >= 20.12) skips the Hash object; older runtimes take the classic route.
const oneShot = (
  crypto as {
    hash?: {
      (algorithm: string, data: string, encoding: 'hex'): string;
      (algorithm: string, data: string, encoding: 'buffer'): Buffer;
    };
  }
).hash;

export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** The 32-byte digest: what the table stores as the request's fingerprint (sent as binary). */
export function sha256(text: string): Buffer {
  return oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest();
}

/**
 * The same checks as `canonicalJson` without building any text: the LRU hit path validates with this,
 * then compares native `JSON.stringify` output with the text cached for the key.
 */
export function checkJson(value: unknown): JsonProblem | undefined {
  if (isJson(value === undefined ? null : value, [])) return undefined;
  // Rare path: let the descriptive walk name the offending part.
  const problem = explainJson(value);
  return typeof problem === 'string' ? undefined : problem;
}

function isJson(v: unknown, path: object[]): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      if (v === null) return true;
      break;
    default:
      return false;
  }
  if (path.length >= MAX_DEPTH || path.includes(v)) return false;
  path.push(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (v[i] === undefined || !isJson(v[i], path)) return false;
  } else {
    if (!isPlainObject(v)) return false;
    for (const k in v) {
      const child = (v as Record<string, unknown>)[k];
      if (child !== undefined && !isJson(child, path)) return false;
    }
  }
  path.pop();
  return true;
}
