/** pino-compatible logger subset; every method is optional so `console` works too. */
export interface DedupLogger {
  debug?(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Calls `logger[level]` if present; a throwing logger never breaks deduplication. */
export function log(logger: DedupLogger | undefined, level: Level, obj: object, msg: string): void {
  try {
    logger?.[level]?.(obj, msg);
  } catch {
    // logging must not change the outcome of a claim
  }
}
