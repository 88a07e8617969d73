import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configErrorMap, describeConfigIssue } from '../src/index.js';

const schema = z
  .object({
    nodes: z.array(z.string()),
    ttlMs: z.number().optional(),
    retry: z.object({ count: z.number().int() }).strict().optional(),
    limit: z.number({ error: 'must be a number of permits' }).optional(),
  })
  .strict();

const describe_ = (input: unknown, prefix?: string) => {
  const parsed = schema.safeParse(input, { error: configErrorMap });
  if (parsed.success) throw new Error('expected a failed parse');
  return describeConfigIssue(parsed.error.issues, prefix);
};

describe('describeConfigIssue', () => {
  it('names a misspelt option before the required one it leaves missing', () => {
    expect(describe_({ node: ['a'] })).toEqual({ field: 'node', message: 'is not an option' });
  });

  it('says a missing option is required, with its path and the prefix', () => {
    expect(describe_({})).toEqual({ field: 'nodes', message: 'is required' });
    expect(describe_({ nodes: [], retry: {} }, 'lock')).toEqual({
      field: 'lock.retry.count',
      message: 'is required',
    });
  });

  it('lists every unknown option of a nested object', () => {
    expect(describe_({ nodes: [], retry: { count: 1, max: 2, min: 3 } })).toEqual({
      field: 'retry.max',
      message: 'unknown options: max, min',
    });
  });

  it("keeps zod's message for a wrong type and a schema's own message", () => {
    expect(describe_({ nodes: [], ttlMs: '5' })).toEqual({
      field: 'ttlMs',
      message: 'Invalid input: expected number, received string',
    });
    expect(describe_({ nodes: [], limit: 'x' })).toEqual({
      field: 'limit',
      message: 'must be a number of permits',
    });
  });

  it('names the options object itself when the input is not an object', () => {
    expect(describe_(42).field).toBe('options');
  });
});
