import { describe, expect, it } from 'vitest';
import { canonicalJson, checkJson } from '../src/json.js';
import { explainJson } from '../src/json-explain.js';

// Values the fast walks must treat exactly as the descriptive reference walk does.
const shared = { s: 'x' };
const valid: unknown[] = [
  null,
  undefined,
  0,
  -0,
  1e21,
  -1.5,
  'text with "quotes" and \u2028',
  true,
  [],
  {},
  [1, 'a', null, [false, {}]],
  { b: 1, a: { d: [1, 2], c: 'x' }, u: undefined },
  Object.assign(Object.create(null), { z: 1, y: 2 }),
  { one: shared, two: shared },
  { '': 1, 'key with space': 2, '\u00e9': 3 },
];
const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
let deep: unknown = 1;
for (let i = 0; i < 70; i++) deep = [deep];
const invalid: unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  10n,
  Symbol('s'),
  () => 1,
  new Date(0),
  new Map(),
  [1, undefined],
  // biome-ignore lint/suspicious/noSparseArray: a hole is undefined in an array
  [1, , 2],
  { a: { b: [1, Number.NaN] } },
  cyclic,
  deep,
  new (class Point {
    x = 1;
  })(),
];

describe('canonical JSON fast walks', () => {
  it('give the reference text for plain JSON, sorted at every level', () => {
    for (const v of valid) {
      expect(canonicalJson(v)).toBe(explainJson(v));
      expect(checkJson(v)).toBeUndefined();
    }
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,2]},"b":1}',
    );
  });

  it('reject what JSON.stringify would change, with the reference path and reason', () => {
    for (const v of invalid) {
      const problem = explainJson(v);
      expect(typeof problem).toBe('object');
      expect(canonicalJson(v)).toEqual(problem);
      expect(checkJson(v)).toEqual(problem);
    }
    expect(canonicalJson({ a: { b: [1, Number.NaN] } })).toEqual({
      path: '$.a.b[1]',
      reason: 'NaN is not a JSON number',
    });
  });
});
