/** Stable error codes of @cxkit/checkpoint. */
export type CheckpointErrorCode =
  | 'CONFIG_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_TOO_LARGE'
  | 'CHECKPOINT_NOT_SERIALIZABLE'
  | 'SESSION_ID_INVALID'
  | 'REVISION_CONFLICT'
  | 'STALE_FENCE';

/** Marks this package's errors across duplicate copies (ESM and CJS builds loaded side by side). */
const marker = Symbol.for('@cxkit/checkpoint/error');

/** Base class of every error this package throws except `ConfigError` (a `TypeError`). */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  readonly [marker] = true;
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
    /** HTTP-ish status a middleware can answer with. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A bad option or schema definition, thrown at construction; `field` names the option. */
export class ConfigError extends TypeError {
  override name = 'ConfigError';
  readonly code = 'CONFIG_INVALID' as const;
  readonly [marker] = true;
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** One failed field of a checkpoint's variables. */
export interface FieldIssue {
  /** Dotted path inside the save input, e.g. `variables.retry_count` or `region`. */
  path: string;
  message: string;
}

/** The variables do not match the schema (422); nothing was written. */
export class CheckpointValidationError extends CheckpointError {
  override name = 'CheckpointValidationError';
  constructor(
    readonly issues: FieldIssue[],
    options?: { cause?: unknown },
  ) {
    const fields = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    super('CHECKPOINT_INVALID', `checkpoint variables are invalid: ${fields}`, 422, options);
  }
}

/** The serialized checkpoint is larger than `maxBytes` (413); nothing was written. */
export class CheckpointTooLargeError extends CheckpointError {
  override name = 'CheckpointTooLargeError';
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super('CHECKPOINT_TOO_LARGE', `checkpoint is ${bytes} bytes, more than maxBytes ${maxBytes}`, 413);
  }
}

/** A value cannot survive JSON (BigInt, function, cycle, NaN, Map, ...) (422); nothing was written. */
export class NotSerializableError extends CheckpointError {
  override name = 'NotSerializableError';
  constructor(
    /** Dotted path of the offending value inside `variables`. */
    readonly path: string,
    readonly reason: string,
  ) {
    super(
      'CHECKPOINT_NOT_SERIALIZABLE',
      `variables.${path || '(root)'} is not JSON-serializable: ${reason}`,
      422,
    );
  }
}

/** Empty, overlong or non-string session id (400); nothing was written. */
export class InvalidSessionIdError extends CheckpointError {
  override name = 'InvalidSessionIdError';
  constructor(message: string) {
    super('SESSION_ID_INVALID', `invalid session id: ${message}`, 400);
  }
}

/** `expectedRevision` no longer matches the session's revision (409); nothing was written. */
export class RevisionConflictError extends CheckpointError {
  override name = 'RevisionConflictError';
  constructor(
    readonly sessionId: string,
    readonly expectedRevision: number,
    /** The session's revision when the save was rejected (0: no checkpoint). */
    readonly actualRevision: number,
  ) {
    super(
      'REVISION_CONFLICT',
      `session ${sessionId}: expected revision ${expectedRevision}, found ${actualRevision}`,
      409,
    );
  }
}

/** The save carried a fence lower than the highest fence already seen for the session (409). */
export class StaleFenceError extends CheckpointError {
  override name = 'StaleFenceError';
  constructor(
    readonly sessionId: string,
    readonly fence: number,
    readonly highestFence: number,
  ) {
    super('STALE_FENCE', `session ${sessionId}: fence ${fence} is older than ${highestFence}`, 409);
  }
}

const ours = (err: unknown): err is { code: string } =>
  typeof err === 'object' && err !== null && (err as { [marker]?: unknown })[marker] === true;
const guard =
  <T extends Error>(code: CheckpointErrorCode) =>
  (err: unknown): err is T =>
    ours(err) && err.code === code;

export const isCheckpointError = (err: unknown): err is CheckpointError | ConfigError => ours(err);
export const isConfigError = guard<ConfigError>('CONFIG_INVALID');
export const isCheckpointValidationError = guard<CheckpointValidationError>('CHECKPOINT_INVALID');
export const isCheckpointTooLargeError = guard<CheckpointTooLargeError>('CHECKPOINT_TOO_LARGE');
export const isNotSerializableError = guard<NotSerializableError>('CHECKPOINT_NOT_SERIALIZABLE');
export const isInvalidSessionIdError = guard<InvalidSessionIdError>('SESSION_ID_INVALID');
export const isRevisionConflictError = guard<RevisionConflictError>('REVISION_CONFLICT');
export const isStaleFenceError = guard<StaleFenceError>('STALE_FENCE');
