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
  // Objects and keys on the current path: a cycle check, and the error path built only on failure.
  const objects: object[] = [];
  const keys: (string | number)[] = [];
  let problem: JsonProblem | undefined;
  const fail = (reason: string): string => {
    problem ??= {
      path: `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`,
      reason,
    };
    return '';
  };
  const walk = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        return Number.isFinite(v) ? String(v) : fail(`${v} is not a JSON number`);
      case 'object':
        break;
      default:
        return fail(`${typeof v} is not JSON`);
    }
    const obj = v as object;
    if (objects.length >= MAX_DEPTH) return fail(`nested deeper than ${MAX_DEPTH}`);
    if (objects.includes(obj)) return fail('circular reference');
    objects.push(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = '[';
      for (let i = 0; i < obj.length && !problem; i++) {
        keys.push(i);
        const item = obj[i];
        out += `${i > 0 ? ',' : ''}${item === undefined ? fail('undefined is not JSON') : walk(item)}`;
        keys.pop();
      }
      out += ']';
    } else if (!isPlainObject(obj)) {
      out = fail(`${obj.constructor?.name ?? 'object'} is not a plain JSON object`);
    } else {
      out = '{';
      let first = true;
      for (const k of Object.keys(obj).sort()) {
        const child = (obj as Record<string, unknown>)[k];
        if (child === undefined) continue; // JSON drops undefined properties; so do we
        keys.push(k);
        out += `${first ? '' : ','}${JSON.stringify(k)}:${walk(child)}`;
        keys.pop();
        first = false;
        if (problem) break;
      }
      out += '}';
    }
    objects.pop();
    return out;
  };
  const text = walk(value === undefined ? null : value);
  return problem ?? text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The same checks as `canonicalJson` without building any text: the LRU hit path validates with this,
 * then compares native `JSON.stringify` output with the text cached for the key.
 */
export function checkJson(value: unknown): JsonProblem | undefined {
  const objects: object[] = [];
  const walk = (v: unknown): boolean => {
    if (v === null) return true;
    const type = typeof v;
    if (type === 'string' || type === 'boolean') return true;
    if (type === 'number') return Number.isFinite(v);
    if (type !== 'object') return false;
    const obj = v as object;
    if (objects.length >= MAX_DEPTH || objects.includes(obj)) return false;
    objects.push(obj);
    let ok = true;
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length && ok; i++) ok = obj[i] !== undefined && walk(obj[i]);
    } else if (!isPlainObject(obj)) {
      ok = false;
    } else {
      for (const k in obj) {
        const child = (obj as Record<string, unknown>)[k];
        if (child !== undefined && !walk(child)) {
          ok = false;
          break;
        }
      }
    }
    objects.pop();
    return ok;
  };
  if (walk(value === undefined ? null : value)) return undefined;
  // Rare path: let the full walk name the offending part.
  const problem = canonicalJson(value);
  return typeof problem === 'string' ? undefined : problem;
}
