/** Base class of every error this package throws, with a stable `code` and an HTTP-ish `status`. */
export class StateCacheError extends Error {
  override readonly name: string = 'StateCacheError';
  readonly code: string;
  readonly status: number | undefined;

  constructor(code: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

const marker = (code: string) => (err: unknown) =>
  err instanceof Error && (err as { code?: unknown }).code === code;

export const isStateCacheError = (err: unknown): err is StateCacheError => err instanceof StateCacheError;
export { marker as codeGuard };
