/** Where a value stops being plain JSON: `path` is the dotted property path ('' for the value itself). */
export interface JsonProblem {
  path: string;
  reason: string;
}

/** Bounds the walk so a pathological payload cannot stall the event loop before a size check. */
const MAX_DEPTH = 64;

/**
 * The first part of `value` that JSON would drop, mangle or refuse: BigInt, functions, symbols, cycles,
 * NaN/Infinity (JSON turns them into null), undefined inside an array and non-plain objects (Map, Set,
 * Date, class instances); undefined when what JSON.parse gives back equals what was stored. Runs on
 * hot paths, so it allocates nothing unless it finds a problem: one shared path stack, ancestors only
 * for cycle detection.
 */
export function jsonProblem(value: unknown): JsonProblem | undefined {
  const path: string[] = [];
  const reason = walk(value, path, []);
  return reason === undefined ? undefined : { path: path.join('.'), reason };
}

/** The reason of the first problem, with `path` left pointing at it; undefined when there is none. */
function walk(value: unknown, path: string[], ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // omitted by JSON as an object property; arrays are checked below
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} has no JSON form`;
    case 'bigint':
      return 'BigInt (store it as a string)';
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
  }
  if (value === null) return undefined;
  const object = value as object;
  if (ancestors.length >= MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  if (ancestors.includes(object)) return 'circular reference';
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      path.push(String(i));
      const reason = object[i] === undefined ? 'undefined inside an array' : walk(object[i], path, ancestors);
      if (reason !== undefined) return reason;
      path.pop();
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      return `${proto?.constructor?.name ?? 'object'} instance (use plain objects, arrays, strings)`;
    }
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      path.push(key);
      const reason = walk((object as Record<string, unknown>)[key], path, ancestors);
      if (reason !== undefined) return reason;
      path.pop();
    }
  }
  ancestors.pop();
  return undefined;
}
