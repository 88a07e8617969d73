import { describe, expect, it } from 'vitest';
import { jsonProblem } from '../src/index.js';

describe('jsonProblem', () => {
  it('passes plain JSON, with undefined object properties (JSON drops them)', () => {
    expect(
      jsonProblem({ a: [1, 'x', null, true, { b: undefined }], c: Object.create(null) }),
    ).toBeUndefined();
    expect(jsonProblem(undefined)).toBeUndefined();
  });

  it('names the first part JSON would drop, mangle or refuse, with its dotted path', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, string, string][] = [
      [10n, '', 'BigInt'],
      [{ a: { b: [0, Number.POSITIVE_INFINITY] } }, 'a.b.1', 'Infinity has no JSON form'],
      [{ when: new Date(0) }, 'when', 'Date instance'],
      [[1, undefined], '1', 'undefined inside an array'],
      [{ f: () => 1 }, 'f', 'function'],
      [{ s: Symbol('x') }, 's', 'symbol'],
      [cyclic, 'self', 'circular reference'],
    ];
    for (const [value, path, reason] of cases) {
      const problem = jsonProblem(value);
      expect(problem?.path, reason).toBe(path);
      expect(problem?.reason, reason).toContain(reason);
    }
  });

  it('bounds the depth it walks', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(jsonProblem(deep)?.reason).toContain('nested deeper than 64');
  });
});
