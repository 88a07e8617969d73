import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, defineCheckpointSchema, isConfigError, mappingTableSchema } from '../src/index.js';

const variables = z.object({ a: z.string(), b: z.number().optional() });

describe('defineCheckpointSchema', () => {
  it('rejects a migration chain with a gap, naming the missing step', () => {
    const define = () =>
      defineCheckpointSchema({ version: 4, variables, migrations: { 1: (v) => v, 3: (v) => v } });
    expect(define).toThrow(ConfigError);
    expect(define).toThrow(/migrations\[2\].*gap/);
  });

  it('rejects migrations outside 1..version-1 and a bad version', () => {
    expect(() => defineCheckpointSchema({ version: 2, variables, migrations: { 2: (v) => v } })).toThrow(
      /migrations\[2\]/,
    );
    expect(() => defineCheckpointSchema({ version: 0, variables })).toThrow(/^version/);
    expect(() => defineCheckpointSchema({ version: 1.5, variables })).toThrow(TypeError);
  });

  it('validates mapping tables given as data at definition time', () => {
    const bad = { rename: { a: 1 } } as unknown as { rename: Record<string, string> };
    const err = (() => {
      try {
        defineCheckpointSchema({ version: 2, variables, migrations: { 1: bad } });
      } catch (e) {
        return e;
      }
    })();
    expect(isConfigError(err)).toBe(true);
    expect((err as ConfigError).field).toBe('migrations[1]');
    expect(
      mappingTableSchema.safeParse({ rename: { x: 'y' }, drop: ['z'], defaults: { q: 1 } }).success,
    ).toBe(true);
    expect(mappingTableSchema.safeParse({ renames: {} }).success).toBe(false);
  });

  it('applies a mapping table as rename, then drop, then defaults', () => {
    const schema = defineCheckpointSchema({
      version: 2,
      variables: z.object({ a: z.string(), b: z.number() }),
      migrations: { 1: { rename: { old: 'a' }, drop: ['junk'], defaults: { b: 7 } } },
    });
    const up = schema.upcasts.get(1)!;
    expect(up({ old: 'x', junk: true })).toEqual({ a: 'x', b: 7 });
    expect(up({ old: 'x', b: 1 })).toEqual({ a: 'x', b: 1 });
    expect(schema.oldestVersion).toBe(1);
  });

  it('renames from the input at once: they do not chain, and a swap keeps both values', () => {
    const upcast = (rename: Record<string, string>) =>
      defineCheckpointSchema({
        version: 2,
        variables: z.record(z.string(), z.unknown()),
        migrations: { 1: { rename } },
      }).upcasts.get(1)!;
    const chain = upcast({ queue: 'routing_queue', routing_queue: 'legacy_queue' });
    expect(chain({ queue: 'q', routing_queue: 'r' })).toEqual({ routing_queue: 'q', legacy_queue: 'r' });
    expect(chain({ routing_queue: 'r' })).toEqual({ legacy_queue: 'r' });
    expect(upcast({ a: 'b', b: 'a' })({ a: 1, b: 2, c: 3 })).toEqual({ a: 2, b: 1, c: 3 });
  });

  it('checks transient names and defaults against the schema', () => {
    expect(() => defineCheckpointSchema({ version: 1, variables, transient: ['nope'] })).toThrow(/transient/);
    expect(() => defineCheckpointSchema({ version: 1, variables: z.string(), transient: ['a'] })).toThrow(
      /z\.object/,
    );
    expect(() =>
      defineCheckpointSchema({ version: 1, variables, defaults: { a: 3 } as unknown as { a: string } }),
    ).toThrow(/defaults/);
    const s = defineCheckpointSchema({ version: 1, variables, transient: ['b'], defaults: { a: 'x' } });
    expect(s.stored.safeParse({ a: 'x', b: 1 }).data).toEqual({ a: 'x' });
    expect(() =>
      defineCheckpointSchema({ version: 1, variables, onUnknownVersion: 'drop' as 'ignore' }),
    ).toThrow(/onUnknownVersion/);
  });
});
