/** The parts of a zod issue read here (structural: this package does not depend on zod). */
export interface SchemaIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
}

/**
 * Per-parse zod error map (`schema.safeParse(input, { error: configErrorMap })`): a missing option reads
 * "is required" instead of zod's "expected nonoptional, received undefined". Messages a schema sets
 * itself take precedence over this one.
 */
export function configErrorMap(issue: { code?: string; input?: unknown }): string | undefined {
  return issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;
}

/**
 * The field and message a `ConfigError` reports for a failed parse. An unknown option comes first: a
 * misspelt one (`ttl` for `ttlMs`) also leaves the real one missing, and the typo is what to fix.
 */
export function describeConfigIssue(
  issues: readonly SchemaIssue[],
  prefix = '',
): { field: string; message: string } {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  const path = (issue?.path ?? []).map(String);
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys ?? [];
    const at = [prefix, ...path].filter(Boolean).join('.');
    const field = [at, keys[0]].filter(Boolean).join('.') || 'options';
    const message = keys.length > 1 ? `unknown options: ${keys.join(', ')}` : 'is not an option';
    return { field, message };
  }
  const field = [prefix, ...path].filter(Boolean).join('.') || 'options';
  return { field, message: issue?.message ?? 'invalid' };
}
