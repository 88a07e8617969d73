import { setTimeout as sleep } from 'node:timers/promises';
import { IdempotencyStoreUnavailableError } from './errors.js';

/**
 * Anything with pg's `query(text, params)` returning `{ rows }`: a pg.Pool, a PoolClient, PGlite. A
 * write's affected-row count (pg's `rowCount`, PGlite's `affectedRows`) saves a read per completion.
 */
export interface Queryable {
  query(
    text: string,
    params?: unknown[],
    // biome-ignore lint/suspicious/noExplicitAny: rows are typed by each statement's caller
  ): Promise<{ rows: any[]; rowCount?: number | null; affectedRows?: number }>;
}

/** The parts of a pg.PoolClient used for LISTEN. */
export interface ListenClient extends Queryable {
  on(event: 'notification', listener: (msg: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  release(err?: Error | boolean): void;
  removeAllListeners?(event: 'notification' | 'error'): unknown;
}

/** A pg.Pool-like db: can lend a dedicated connection (used for LISTEN/NOTIFY). */
export interface PoolLike extends Queryable {
  connect(): Promise<ListenClient>;
}

export function isPoolLike(db: Queryable): db is PoolLike {
  return typeof (db as Partial<PoolLike>).connect === 'function';
}

/**
 * Runs a named statement. node-postgres prepares it once per connection (`{ name, text, values }`),
 * which saves the parse and plan of every call; plain `{ query }` objects get text and params.
 */
export function runStatement(
  db: Queryable,
  statement: { name: string; text: string },
  params: unknown[],
  prepared: boolean,
): ReturnType<Queryable['query']> {
  if (!prepared) return db.query(statement.text, params);
  const query = db.query as unknown as (config: object) => ReturnType<Queryable['query']>;
  return query.call(db, { name: statement.name, text: statement.text, values: params });
}

/** Rows a write affected: pg's `rowCount`, PGlite's `affectedRows`; undefined when the db reports neither. */
export function affectedRows(result: {
  rowCount?: number | null;
  affectedRows?: number;
}): number | undefined {
  return result.rowCount ?? result.affectedRows ?? undefined;
}

// SQLSTATE classes 08 (connection exception), 57P01-03 (shutdown, crash, starting up), 53300 (too many
// connections) and socket errors: the server is unreachable, the request itself was fine.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Connection ended|not queryable|ECONNREFUSED/i;

export function isUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = String((err as { code?: unknown }).code ?? '');
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some(isUnavailable)) return true;
  return UNAVAILABLE_MESSAGES.test(String((err as { message?: unknown }).message ?? ''));
}

// Errors of a sound statement that a later try may not meet: statement timeout (57014), serialization
// failure (40001), deadlock victim (40P01), lock timeout (55P03), read-only transaction (25006: a
// primary demoted during failover).
const TRANSIENT_CODES = new Set(['57014', '40001', '40P01', '55P03', '25006']);

/** Unreachable, or a transient failure of the statement itself (see `TRANSIENT_CODES`). */
export function isTransient(err: unknown): boolean {
  if (isUnavailable(err)) return true;
  return (
    typeof err === 'object' && err !== null && TRANSIENT_CODES.has(String((err as { code?: unknown }).code))
  );
}

/**
 * Runs an idempotent statement, retrying while the server is unreachable (or while `retryable` says
 * so) until `budgetMs` has passed; then throws `IdempotencyStoreUnavailableError`. Other errors pass
 * through at once. The first try is a plain call: the retry loop (and its closures) exists only once a
 * try has failed.
 */
export function withRetry<T>(
  operation: string,
  budgetMs: number,
  fn: () => Promise<T>,
  signal?: AbortSignal,
  retryable: (err: unknown) => boolean = isUnavailable,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let first: Promise<T>;
  try {
    first = fn();
  } catch (err) {
    first = Promise.reject(err); // a db whose query() throws instead of rejecting
  }
  return first.catch((err: unknown) => retry(operation, deadline, fn, err, signal, retryable));
}

async function retry<T>(
  operation: string,
  deadline: number,
  fn: () => Promise<T>,
  first: unknown,
  signal: AbortSignal | undefined,
  retryable: (err: unknown) => boolean,
): Promise<T> {
  let err = first;
  let delay = 25;
  for (;;) {
    if (!retryable(err)) throw err;
    const left = deadline - Date.now();
    if (left <= 0 || signal?.aborted) throw new IdempotencyStoreUnavailableError(operation, { cause: err });
    await sleep(Math.min(delay, left), undefined, { ref: false });
    delay = Math.min(delay * 2, 500);
    try {
      return await fn();
    } catch (e) {
      err = e;
    }
  }
}
