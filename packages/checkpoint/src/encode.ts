import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CheckpointTooLargeError, CheckpointValidationError, type FieldIssue } from './errors.js';
import type { CheckpointSchema } from './schema/define-schema.js';
import { assertSerializable } from './serializable.js';
import type { SaveInput } from './types.js';

/** A save that passed every check: what the backend writes, byte for byte. */
export interface PreparedSave {
  /** Envelope without `revision`/`savedAt` (the backend prepends them with its own counter and clock). */
  body: string;
  bytes: number;
  checkpointId: string;
  expectedRevision: number | undefined;
  fence: number | undefined;
}

const text = z.string().min(1).max(256);
const saveInput = z.object({
  region: text,
  flowVersion: z.union([text, z.number().finite()]),
  checkpointId: text.optional(),
  expectedRevision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  fence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  variables: z.unknown(),
});

export function issuesOf(error: z.ZodError, prefix: string[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/**
 * Validates and serializes a save before anything is written: input fields, variables against the
 * schema, transient fields stripped, JSON-safety, then the size cap on the exact bytes to be stored.
 */
export function prepareSave(
  schema: CheckpointSchema<unknown, unknown>,
  input: SaveInput,
  maxBytes: number,
): PreparedSave {
  const meta = saveInput.safeParse(input);
  if (!meta.success) throw new CheckpointValidationError(issuesOf(meta.error));
  const parsed = schema.input.safeParse(input.variables);
  if (!parsed.success) throw new CheckpointValidationError(issuesOf(parsed.error, ['variables']));
  let variables = parsed.data as Record<string, unknown>;
  if (schema.transient.length > 0) {
    variables = { ...variables };
    for (const name of schema.transient) delete variables[name];
  }
  assertSerializable(variables);
  const checkpointId = meta.data.checkpointId ?? `chk_${randomUUID()}`;
  const envelope = {
    checkpointId,
    region: meta.data.region,
    flowVersion: meta.data.flowVersion,
    schemaVersion: schema.version,
    ...(meta.data.fence === undefined ? {} : { fence: meta.data.fence }),
    variables,
  };
  const body = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(body);
  if (bytes > maxBytes) throw new CheckpointTooLargeError(bytes, maxBytes);
  return {
    body,
    bytes,
    checkpointId,
    expectedRevision: meta.data.expectedRevision,
    fence: meta.data.fence,
  };
}
