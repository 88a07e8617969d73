import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
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

const isText = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** Checks the fields around `variables` by hand (every save runs this) and lists every bad one. */
function inputIssues(input: SaveInput): FieldIssue[] {
  if (typeof input !== 'object' || input === null) return [{ path: '', message: 'expected an object' }];
  const issues: FieldIssue[] = [];
  const text = '1 to 256 characters';
  if (!isText(input.region)) issues.push({ path: 'region', message: `expected a string of ${text}` });
  const fv = input.flowVersion;
  if (!isText(fv) && !(typeof fv === 'number' && Number.isFinite(fv))) {
    issues.push({ path: 'flowVersion', message: `expected a finite number or a string of ${text}` });
  }
  if (input.checkpointId !== undefined && !isText(input.checkpointId)) {
    issues.push({ path: 'checkpointId', message: `expected a string of ${text}` });
  }
  for (const name of ['expectedRevision', 'fence'] as const) {
    if (input[name] !== undefined && !isCount(input[name])) {
      issues.push({ path: name, message: 'expected a non-negative safe integer' });
    }
  }
  return issues;
}

/**
 * A copy without the transient fields. Copying the kept ones (instead of `delete`) keeps the object in
 * V8's fast mode, which `JSON.stringify` and the serializability walk both pay for on every save.
 */
function withoutTransient(variables: Record<string, unknown>, transient: readonly string[]) {
  if (transient.length === 0) return variables;
  const kept: Record<string, unknown> = {};
  for (const name in variables) {
    if (Object.hasOwn(variables, name) && !transient.includes(name)) kept[name] = variables[name];
  }
  return kept;
}

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
  const bad = inputIssues(input);
  if (bad.length > 0) throw new CheckpointValidationError(bad);
  const parsed = schema.input.safeParse(input.variables);
  if (!parsed.success) throw new CheckpointValidationError(issuesOf(parsed.error, ['variables']));
  const variables = withoutTransient(parsed.data as Record<string, unknown>, schema.transient);
  assertSerializable(variables);
  const checkpointId = input.checkpointId ?? `chk_${randomUUID()}`;
  const envelope = {
    checkpointId,
    region: input.region,
    flowVersion: input.flowVersion,
    schemaVersion: schema.version,
    fence: input.fence, // JSON.stringify leaves it out while undefined
    variables,
  };
  const body = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(body);
  if (bytes > maxBytes) throw new CheckpointTooLargeError(bytes, maxBytes);
  return {
    body,
    bytes,
    checkpointId,
    expectedRevision: input.expectedRevision,
    fence: input.fence,
  };
}
