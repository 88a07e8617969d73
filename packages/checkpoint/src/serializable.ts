import { NotSerializableError } from './errors.js';

/** Bounds the walk so a pathological payload cannot stall the event loop before the size check. */
const MAX_DEPTH = 64;

function fail(path: string[], reason: string): never {
  throw new NotSerializableError(path.join('.'), reason);
}

/**
 * Throws `NotSerializableError` for anything JSON would drop, mangle or refuse: BigInt, functions,
 * symbols, cycles, NaN/Infinity (JSON turns them into null) and non-plain objects (Map, Set, Date, class
 * instances), so what a flow restores is exactly what it saved.
 */
export function assertSerializable(value: unknown, path: string[] = [], seen = new Set<object>()): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} has no JSON form`);
      return;
    case 'bigint':
      fail(path, 'BigInt (store it as a string)');
      break;
    case 'function':
      fail(path, 'function');
      break;
    case 'symbol':
      fail(path, 'symbol');
      break;
    case 'undefined':
      // `undefined` properties are simply omitted by JSON; inside arrays they would turn into null.
      return;
  }
  if (value === null) return;
  const object = value as object;
  if (path.length >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (seen.has(object)) fail(path, 'circular reference');
  const isArray = Array.isArray(object);
  const proto = Object.getPrototypeOf(object);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    fail(path, `${proto?.constructor?.name ?? 'object'} instance (use plain objects, arrays, strings)`);
  }
  seen.add(object);
  if (isArray) {
    object.forEach((item, i) => {
      if (item === undefined) fail([...path, String(i)], 'undefined inside an array');
      assertSerializable(item, [...path, String(i)], seen);
    });
  } else {
    for (const [key, item] of Object.entries(object)) assertSerializable(item, [...path, key], seen);
  }
  seen.delete(object);
}
