/** Base class of every error this package throws on purpose; `code` is stable across versions. */
export abstract class IdempotencyError extends Error {
  abstract readonly code: string;
  /** HTTP status an adapter answers with. */
  abstract readonly status: number;
  /** Whether the same request may succeed when retried later. */
  readonly retryable: boolean = false;
}

/** A run with the same key holds a live lease (HTTP 409); retry after `retryAfterMs`. */
export class IdempotencyInProgressError extends IdempotencyError {
  override readonly name = 'IdempotencyInProgressError';
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
  readonly status = 409;
  override readonly retryable = true;
  constructor(
    readonly key: string,
    /** Time until the running lease expires (server time), at least 1 ms. */
    readonly retryAfterMs: number,
  ) {
    super(`idempotency key "${key}" is being processed; retry after ${retryAfterMs} ms`);
  }
}

/** The key was first used with a different request (HTTP 422); the stored record is untouched. */
export class IdempotencyKeyReusedError extends IdempotencyError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
  constructor(readonly key: string) {
    super(`idempotency key "${key}" was already used with a different request`);
  }
}

/** The key is missing, too long or has characters outside visible ASCII (HTTP 400). Nothing is written. */
export class InvalidIdempotencyKeyError extends IdempotencyError {
  override readonly name = 'InvalidIdempotencyKeyError';
  readonly code = 'IDEMPOTENCY_KEY_INVALID';
  readonly status = 400;
  constructor(reason: string) {
    super(`invalid idempotency key: ${reason}`);
  }
}

/** The request cannot be fingerprinted (not JSON: BigInt, function, cycle, class instance...) (HTTP 400). */
export class InvalidRequestError extends IdempotencyError {
  override readonly name = 'InvalidRequestError';
  readonly code = 'IDEMPOTENCY_REQUEST_INVALID';
  readonly status = 400;
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`request is not JSON at ${path}: ${reason}`);
  }
}

/** The handler's response cannot be stored as JSON (HTTP 500); the key is released. */
export class InvalidResponseError extends IdempotencyError {
  override readonly name = 'InvalidResponseError';
  readonly code = 'IDEMPOTENCY_RESPONSE_INVALID';
  readonly status = 500;
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`response is not storable at ${path}: ${reason}`);
  }
}

/** The response is larger than `maxResponseBytes` (HTTP 500); nothing is stored and the key is released. */
export class ResponseTooLargeError extends IdempotencyError {
  override readonly name = 'ResponseTooLargeError';
  readonly code = 'IDEMPOTENCY_RESPONSE_TOO_LARGE';
  readonly status = 500;
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`response is ${bytes} bytes, more than maxResponseBytes (${maxBytes})`);
  }
}

/** A lower fence than the one recorded for the key: a stale lock holder (HTTP 409). Nothing is written. */
export class StaleFenceError extends IdempotencyError {
  override readonly name = 'StaleFenceError';
  readonly code = 'STALE_FENCE';
  readonly status = 409;
  constructor(
    readonly key: string,
    readonly fence: string,
    readonly recordedFence: string,
  ) {
    super(`fence ${fence} for "${key}" is lower than the recorded fence ${recordedFence}`);
  }
}

/** This run's lease was taken over after it expired; its late completion was rejected (HTTP 409). */
export class IdempotencyLeaseLostError extends IdempotencyError {
  override readonly name = 'IdempotencyLeaseLostError';
  readonly code = 'IDEMPOTENCY_LEASE_LOST';
  readonly status = 409;
  constructor(readonly key: string) {
    super(`lease on idempotency key "${key}" expired and was taken over; this result was not stored`);
  }
}

/** Postgres could not be reached within the retry budget (HTTP 503, retryable). */
export class IdempotencyStoreUnavailableError extends IdempotencyError {
  override readonly name = 'IdempotencyStoreUnavailableError';
  readonly code = 'IDEMPOTENCY_STORE_UNAVAILABLE';
  readonly status = 503;
  override readonly retryable = true;
  readonly retryAfterMs = 1_000;
  constructor(operation: string, options: { cause: unknown }) {
    super(`idempotency store unavailable during ${operation}: ${(options.cause as Error)?.message}`, options);
  }
}

/** An option failed validation; `field` names it. */
export class ConfigError extends TypeError {
  override readonly name = 'ConfigError';
  readonly code = 'IDEMPOTENCY_CONFIG';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid option "${field}": ${message}`);
  }
}

const guard =
  <T>(code: string) =>
  (err: unknown): err is T =>
    typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;

const CODES = new Set([
  'IDEMPOTENCY_IN_PROGRESS',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_INVALID',
  'IDEMPOTENCY_REQUEST_INVALID',
  'IDEMPOTENCY_RESPONSE_INVALID',
  'IDEMPOTENCY_RESPONSE_TOO_LARGE',
  'STALE_FENCE',
  'IDEMPOTENCY_LEASE_LOST',
  'IDEMPOTENCY_STORE_UNAVAILABLE',
]);

/** Guards check `code`, not `instanceof`: the adapter entry points bundle their own copy of these classes. */
export const isIdempotencyError = (err: unknown): err is IdempotencyError =>
  typeof err === 'object' && err !== null && CODES.has((err as { code?: string }).code as string);
export const isIdempotencyInProgressError = guard<IdempotencyInProgressError>('IDEMPOTENCY_IN_PROGRESS');
export const isIdempotencyKeyReusedError = guard<IdempotencyKeyReusedError>('IDEMPOTENCY_KEY_REUSED');
export const isInvalidIdempotencyKeyError = guard<InvalidIdempotencyKeyError>('IDEMPOTENCY_KEY_INVALID');
export const isInvalidRequestError = guard<InvalidRequestError>('IDEMPOTENCY_REQUEST_INVALID');
export const isInvalidResponseError = guard<InvalidResponseError>('IDEMPOTENCY_RESPONSE_INVALID');
export const isResponseTooLargeError = guard<ResponseTooLargeError>('IDEMPOTENCY_RESPONSE_TOO_LARGE');
export const isStaleFenceError = guard<StaleFenceError>('STALE_FENCE');
export const isIdempotencyLeaseLostError = guard<IdempotencyLeaseLostError>('IDEMPOTENCY_LEASE_LOST');
export const isIdempotencyStoreUnavailableError = guard<IdempotencyStoreUnavailableError>(
  'IDEMPOTENCY_STORE_UNAVAILABLE',
);
export const isConfigError = guard<ConfigError>('IDEMPOTENCY_CONFIG');
