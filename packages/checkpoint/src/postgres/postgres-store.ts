import { z } from 'zod';
import { defaults } from '../defaults.js';
import { type CommonCheckpointOptions, commonOptions, parseOptions } from '../options.js';
import type { CheckpointSchema } from '../schema/define-schema.js';
import { BaseCheckpointStore } from '../store.js';
import type { Logger } from '../types.js';
import { isPgPoolOrClient, PostgresBackend, type QueryableLike } from './postgres-backend.js';
import { ddl, tablesFor } from './sql.js';

export interface PostgresCheckpointStoreOptions<V, I> extends CommonCheckpointOptions<V, I> {
  /** A `pg.Pool` or `pg.Client` (anything with `query(text, params)` returning `{ rows }`). */
  db: QueryableLike;
  /** Base table name; `<table>_sessions` and `<table>_quarantine` sit beside it. @default 'cxkit_checkpoints' */
  table?: string;
  /**
   * Send statements as named prepared statements (`{ name, text, values }`): parsed and planned once
   * per connection. Turn off behind a pooler that cannot keep them (PgBouncer in transaction mode
   * before 1.21). @default true for a pg.Pool or pg.Client (anything with `connect()`), else false
   */
  preparedStatements?: boolean;
}

const postgresOptions = commonOptions.extend({
  db: z.custom<QueryableLike>(
    (v) => typeof (v as { query?: unknown } | null)?.query === 'function',
    'must have query(text, params) (pg.Pool, pg.Client)',
  ),
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lower-case SQL identifier of at most 41 characters')
    .default(defaults.table),
  preparedStatements: z.boolean().optional(),
});

/**
 * The same contract as `CheckpointStore` on PostgreSQL: a durable audit copy for checkpoints that must
 * outlive Redis. Each save is one statement; expiry uses the server's `now()`.
 */
export class PostgresCheckpointStore<V = Record<string, unknown>, I = V> extends BaseCheckpointStore<V, I> {
  readonly #db: QueryableLike;
  readonly #table: string;
  readonly #pg: PostgresBackend;

  constructor(options: PostgresCheckpointStoreOptions<V, I>) {
    const o = parseOptions(postgresOptions, options);
    const backend = new PostgresBackend(o.db, {
      tables: tablesFor(o.table),
      history: o.history,
      ttlMs: o.ttlSeconds * 1000,
      maxAgeMs: o.maxAgeSeconds * 1000,
      maxQuarantined: o.maxQuarantined,
      prepared: o.preparedStatements ?? isPgPoolOrClient(o.db),
    });
    super(backend, {
      ...o,
      schema: o.schema as CheckpointSchema<unknown, unknown>,
      logger: o.logger as Logger | undefined,
    });
    this.#db = o.db;
    this.#table = o.table;
    this.#pg = backend;
  }

  /** Creates the tables and the expiry index if missing (idempotent, safe to run from many processes). */
  async migrate(): Promise<void> {
    try {
      await this.#db.query(ddl(tablesFor(this.#table), this.#table));
    } catch (err) {
      // The script stopped between its BEGIN and COMMIT: on one connection (a pg.Client) the
      // transaction would stay open and aborted, failing every later call and holding the migration
      // lock. (A pool drops a client that failed; there this ROLLBACK finds nothing to end.)
      await this.#db.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  /** Deletes up to `limit` expired sessions with their checkpoints; resolves how many went. */
  async sweep(options: { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? 1_000;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    return this.#pg.sweep(limit);
  }
}
