/** A constructor option is invalid. A `TypeError`, so it fails fast like a wrong argument. */
export class ConfigError extends TypeError {
  override readonly name = 'ConfigError';
  readonly code = 'STATE_CACHE_CONFIG';
  /** Dotted path of the offending option, e.g. `nearCache.max`. */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(`state-cache option "${field}": ${message}`, options);
    this.field = field;
  }
}

export const isConfigError = (err: unknown): err is ConfigError =>
  err instanceof Error && (err as { code?: unknown }).code === 'STATE_CACHE_CONFIG';
