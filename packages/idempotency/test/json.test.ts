import { describe, expect, it } from 'vitest';
import { canonicalJson, checkJson } from '../src/json.js';
import { sameJson } from '../src/json-equal.js';
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
  // Strings JSON.stringify escapes (or not): quote, backslash, controls, surrogates paired and lone, DEL.
  ['back\\slash', 'line\nfeed', 'nul\u0000', 'tab\t', 'emoji \ud83d\ude00', 'lone \ud800', 'del \u007f'],
  { 'k"ey': 1, 'k\\ey': 2, 'k\u0001': 3, 'k\udfff': 4 },
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
    expect(canonicalJson(['a"b', 'c\\d', '\u0001', '\ud800'])).toBe(
      JSON.stringify(['a"b', 'c\\d', '\u0001', '\ud800']),
    );
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

describe('sameJson (LRU hits compare the request with the parsed canonical one)', () => {
  const parsed = (v: unknown) => JSON.parse(canonicalJson(v) as string);

  it('holds exactly when the canonical texts are equal', () => {
    const pairs: [unknown, unknown][] = [];
    for (const a of valid) for (const b of valid) pairs.push([a, b]);
    pairs.push(
      [
        { a: 1, b: [1, 2] },
        { b: [1, 2], a: 1 },
      ],
      [
        { a: 1, b: [1, 2] },
        { a: 1, b: [2, 1] },
      ],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{ a: 1, b: 2 }, { a: 1 }],
      [{ a: 1, b: undefined }, { a: 1 }],
      [{ a: '1' }, { a: 1 }],
      [{ a: null }, { a: {} }],
      [[[]], [{}]],
      [-0, 0],
    );
    for (const [a, b] of pairs) {
      const equal = canonicalJson(a) === canonicalJson(b);
      expect(
        sameJson(a === undefined ? null : a, parsed(b)),
        `${String(canonicalJson(a))} vs ${String(canonicalJson(b))}`,
      ).toBe(equal);
    }
  });

  it('never holds for a value that is not plain JSON, whatever it prints as', () => {
    // What JSON.stringify would make of it (it throws on BigInt and cycles: compare with a string then).
    const printed = (v: unknown) => {
      try {
        return JSON.parse(JSON.stringify(v) ?? 'null');
      } catch {
        return String(v);
      }
    };
    // (Too deep is left out: a cached request is canonical, so never deeper than the limit.)
    for (const v of invalid.filter((x) => x !== deep)) expect(sameJson(v, printed(v))).toBe(false);
    expect(sameJson({ at: new Date(0) }, { at: new Date(0).toISOString() })).toBe(false);
    expect(sameJson(new String('x'), 'x')).toBe(false);
    expect(sameJson(Object.assign(new Map(), { a: 1 }), { a: 1 })).toBe(false);
  });

  it('ignores inherited enumerable properties, as JSON does', () => {
    const child = Object.create({ inherited: 1 });
    child.own = 2;
    expect(Object.getPrototypeOf(child)).not.toBe(Object.prototype);
    expect(sameJson(child, { own: 2 })).toBe(false); // not a plain object at all
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 1;
    try {
      expect(sameJson({ own: 2 }, { own: 2 })).toBe(true);
      expect(canonicalJson({ own: 2 })).toBe('{"own":2}');
    } finally {
      delete proto.polluted;
    }
  });
});
