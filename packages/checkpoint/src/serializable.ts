import { NotSerializableError } from './errors.js';

/** Bounds the walk so a pathological payload cannot stall the event loop before the size check. */
const MAX_DEPTH = 64;

/**
 * Throws `NotSerializableError` for anything JSON would drop, mangle or refuse: BigInt, functions,
 * symbols, cycles, NaN/Infinity (JSON turns them into null) and non-plain objects (Map, Set, Date, class
 * instances), so what a flow restores is exactly what it saved. Runs on every save, so it allocates
 * nothing on the happy path: one shared path stack, ancestors only for cycle detection.
 */
export function assertSerializable(value: unknown): void {
  walk(value, [], []);
}

function fail(path: string[], reason: string): never {
  throw new NotSerializableError(path.join('.'), reason);
}

function walk(value: unknown, path: string[], ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // omitted by JSON as an object property; arrays are checked by the caller
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
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.length >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (ancestors.includes(object)) fail(path, 'circular reference');
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(String(i));
      if (object[i] === undefined) fail(path, 'undefined inside an array');
      walk(object[i], path, ancestors);
      path.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      fail(path, `${proto?.constructor?.name ?? 'object'} instance (use plain objects, arrays, strings)`);
    }
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      path.push(key);
      walk((object as Record<string, unknown>)[key], path, ancestors);
      path.pop();
    }
  }
  ancestors.pop();
}
