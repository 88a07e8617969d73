import { z } from 'zod';
import { issuesOf } from './encode.js';
import type { CheckpointSchema } from './schema/define-schema.js';
import type { Checkpoint, IncompatibleReason } from './types.js';

const envelope = z.object({
  revision: z.number().int().positive(),
  savedAt: z.number().int().nonnegative(),
  checkpointId: z.string(),
  region: z.string(),
  flowVersion: z.union([z.string(), z.number()]),
  schemaVersion: z.number().int(),
  fence: z.number().int().optional(),
  migratedFrom: z.number().int().optional(),
  variables: z.record(z.string(), z.unknown()),
});

export type Decoded<V> =
  | { ok: true; checkpoint: Checkpoint<V>; fromVersion: number }
  | {
      ok: false;
      reason: IncompatibleReason;
      detail: string;
      revision: number | undefined;
      storedVersion: number | undefined;
    };

function bad<V>(reason: IncompatibleReason, detail: string, revision?: number, version?: number): Decoded<V> {
  return { ok: false, reason, detail, revision, storedVersion: version };
}

/**
 * Turns a stored payload into a checkpoint in the current schema version, or says why it cannot.
 * Never throws: a failover must reach the flow's degradation path, not an error handler.
 */
export function decode<V>(sessionId: string, raw: string, schema: CheckpointSchema<V, unknown>): Decoded<V> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return bad('malformed', `stored payload is not JSON: ${(err as Error).message}`);
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) {
    const rev = (json as { revision?: unknown } | null)?.revision;
    return bad(
      'malformed',
      `stored payload is not a checkpoint: ${parsed.error.message}`,
      typeof rev === 'number' ? rev : undefined,
    );
  }
  const stored = parsed.data;
  const from = stored.schemaVersion;
  if (from > schema.version) {
    return bad(
      'newer-version',
      `schema version ${from} is newer than ${schema.version}`,
      stored.revision,
      from,
    );
  }
  if (from < schema.oldestVersion) {
    return bad('unknown-version', `no migration from schema version ${from}`, stored.revision, from);
  }
  let variables: Record<string, unknown> = stored.variables;
  for (let v = from; v < schema.version; v++) {
    try {
      variables = schema.upcasts.get(v)!(structuredClone(variables));
    } catch (err) {
      return bad(
        'migration-failed',
        `upcast ${v} -> ${v + 1} threw: ${(err as Error).message}`,
        stored.revision,
        from,
      );
    }
  }
  const valid = schema.stored.safeParse(variables);
  if (!valid.success) {
    const fields = issuesOf(valid.error, ['variables'])
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ');
    return bad('invalid', `stored variables fail the schema: ${fields}`, stored.revision, from);
  }
  return {
    ok: true,
    fromVersion: from,
    checkpoint: {
      sessionId,
      revision: stored.revision,
      checkpointId: stored.checkpointId,
      savedAt: new Date(stored.savedAt),
      region: stored.region,
      flowVersion: stored.flowVersion,
      schemaVersion: schema.version,
      fence: stored.fence,
      variables: valid.data,
    },
  };
}

/** The payload to write back after an upcast: same revision, time and id, new variables and version. */
export function encodeMigrated(checkpoint: Checkpoint<unknown>, fromVersion: number): string {
  return JSON.stringify({
    revision: checkpoint.revision,
    savedAt: checkpoint.savedAt.getTime(),
    checkpointId: checkpoint.checkpointId,
    region: checkpoint.region,
    flowVersion: checkpoint.flowVersion,
    schemaVersion: checkpoint.schemaVersion,
    ...(checkpoint.fence === undefined ? {} : { fence: checkpoint.fence }),
    migratedFrom: fromVersion,
    variables: checkpoint.variables,
  });
}
