/** Options shared by every error of this package. */
export interface DedupErrorOptions {
  cause?: unknown;
}

/**
 * Base class of every runtime error thrown by `@cxkit/dedup`. `code` is stable across versions and is
 * what callers should switch on; `status` is the HTTP status a webhook receiver would answer with.
 */
export class DedupError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string, options: DedupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

export const isDedupError = (value: unknown): value is DedupError => value instanceof DedupError;

/** A constructor option is invalid; `field` names it (dotted path for nested options). */
export class ConfigError extends TypeError {
  readonly code = 'DEDUP_CONFIG' as const;
  readonly field: string;

  constructor(field: string, message: string, options: DedupErrorOptions = {}) {
    super(
      `Deduplicator option "${field}": ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ConfigError';
    this.field = field;
  }
}

export const isConfigError = (value: unknown): value is ConfigError => value instanceof ConfigError;
