import { isPlainObject } from './json-explain.js';

/**
 * Whether `value` is plain JSON equal to `json`, a parsed canonical request: the same values, arrays
 * in order, objects with the same own keys in any order, undefined properties ignored as JSON ignores
 * them. It holds only for plain JSON (class instances, Dates, NaN, cycles never equal a parsed value),
 * so an LRU hit needs no separate validation, and no text is built.
 */
export function sameJson(value: unknown, json: unknown): boolean {
  if (value === json) return true;
  if (typeof value !== 'object' || value === null || typeof json !== 'object' || json === null) return false;
  if (Array.isArray(json)) {
    if (!Array.isArray(value) || value.length !== json.length) return false;
    for (let i = 0; i < json.length; i++) if (!sameJson(value[i], json[i])) return false;
    return true;
  }
  if (Array.isArray(value) || !isPlainObject(value)) return false;
  let keys = 0;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue; // inherited properties are not JSON
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!Object.hasOwn(json, k) || !sameJson(v, (json as Record<string, unknown>)[k])) return false;
    keys++;
  }
  for (const k in json) if (Object.hasOwn(json, k)) keys--;
  return keys === 0;
}
