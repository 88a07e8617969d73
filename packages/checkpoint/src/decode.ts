import { issuesOf } from './encode.js';
import type { CheckpointSchema } from './schema/define-schema.js';
import type { Checkpoint, IncompatibleReason } from './types.js';

interface Envelope {
  revision: number;
  savedAt: number;
  checkpointId: string;
  region: string;
  flowVersion: string | number;
  schemaVersion: number;
  fence?: number;
  variables: Record<string, unknown>;
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * Checks the stored envelope by hand: it is on the hot path of every `latest()`, and a plain check
 * costs a fraction of a schema parse. Returns the first problem as text.
 */
function envelopeProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not an object';
  const e = json as Record<string, unknown>;
  if (!isInt(e.revision) || e.revision < 1) return 'revision is not a positive integer';
  if (!isInt(e.savedAt) || e.savedAt < 0) return 'savedAt is not a timestamp';
  if (typeof e.checkpointId !== 'string') return 'checkpointId is not a string';
  if (typeof e.region !== 'string') return 'region is not a string';
  if (typeof e.flowVersion !== 'string' && typeof e.flowVersion !== 'number') return 'flowVersion is missing';
  if (!isInt(e.schemaVersion)) return 'schemaVersion is not an integer';
  if (e.fence !== undefined && !isInt(e.fence)) return 'fence is not an integer';
  const v = e.variables;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'variables is not an object';
  return undefined;
}

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
  const problem = envelopeProblem(json);
  if (problem) {
    const rev = (json as { revision?: unknown } | null)?.revision;
    return bad('malformed', `stored payload is not a checkpoint: ${problem}`, isInt(rev) ? rev : undefined);
  }
  const stored = json as Envelope;
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
