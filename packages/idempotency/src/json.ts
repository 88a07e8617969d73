import { createHash } from 'node:crypto';

/** Version of the fingerprint algorithm stored beside each fingerprint, so it can change later. */
export const FINGERPRINT_VERSION = 1;

const MAX_DEPTH = 64;

/** Why a value is not plain JSON, with the path to the offending part. */
export interface JsonProblem {
  path: string;
  reason: string;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Serializes plain JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` give the same
 * text. Rejects what JSON.stringify would silently change (BigInt, NaN, Date, Map, class instances,
 * cycles, undefined in arrays) instead of fingerprinting something the caller did not send.
 */
export function canonicalJson(value: unknown): string | JsonProblem {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): string | JsonProblem => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : { path, reason: `${v} is not a JSON number` };
      case 'object':
        break;
      default:
        return { path, reason: `${typeof v} is not JSON` };
    }
    const obj = v as object;
    if (depth > MAX_DEPTH) return { path, reason: `nested deeper than ${MAX_DEPTH}` };
    if (seen.has(obj)) return { path, reason: 'circular reference' };
    seen.add(obj);
    let out: string | JsonProblem;
    if (Array.isArray(obj)) {
      const parts: string[] = [];
      out = '';
      for (let i = 0; i < obj.length; i++) {
        const item =
          obj[i] === undefined
            ? { path: `${path}[${i}]`, reason: 'undefined is not JSON' }
            : walk(obj[i], `${path}[${i}]`, depth + 1);
        if (typeof item !== 'string') {
          out = item;
          break;
        }
        parts.push(item);
      }
      if (out === '') out = `[${parts.join(',')}]`;
    } else if (!isPlainObject(obj)) {
      out = { path, reason: `${obj.constructor?.name ?? 'object'} is not a plain JSON object` };
    } else {
      const parts: string[] = [];
      out = '';
      for (const k of Object.keys(obj).sort()) {
        const child = (obj as Record<string, unknown>)[k];
        if (child === undefined) continue; // JSON drops undefined properties; so do we
        const item = walk(child, `${path}.${k}`, depth + 1);
        if (typeof item !== 'string') {
          out = item;
          break;
        }
        parts.push(`${JSON.stringify(k)}:${item}`);
      }
      if (out === '') out = `{${parts.join(',')}}`;
    }
    seen.delete(obj);
    return out;
  };
  return walk(value === undefined ? null : value, '$', 0);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
