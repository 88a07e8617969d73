import { ConfigError } from '../errors/config-error.js';
import type { SourceReadOptions, SourceRecord, StateEvent, StateEventType, StateSource } from '../types.js';

/** Anything with `query(text, params)` returning `{ rows }`: a `pg.Pool`, `pg.Client` or PGlite. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface PostgresOutboxOptions {
  db: Queryable;
  /** Outbox table, optionally schema-qualified (`app.state_outbox`). */
  table: string;
  /** Offset to start after when the rebuild has none recorded. @default undefined (from the first row) */
  fromOffset?: string;
  /** Rows per query. @default 1000 */
  batchSize?: number;
}

export interface PostgresOutboxSource<T> extends StateSource<T> {
  /** Creates the table: `id bigserial` (the offset), `key`, `version`, `type`, `value jsonb`, `created_at`. */
  migrate(): Promise<void>;
  /** Appends events (use your own transaction's client as `db` to make it transactional). */
  append(events: readonly StateEvent<T>[], db?: Queryable): Promise<void>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/**
 * A transactional-outbox table as rebuild source. Rows are read in `id` order in keyset pages, so a
 * rebuild resumes after any recorded `id`. The read ends at the first empty page. Caveat of every
 * id-ordered outbox: a transaction that commits after a higher id was read is missed by that read,
 * so writers should also `apply()` live (the rebuild is the safety net, not the only path).
 */
export function postgresOutboxSource<T>(options: PostgresOutboxOptions): PostgresOutboxSource<T> {
  if (!IDENT.test(options.table))
    throw new ConfigError('table', 'expected a SQL identifier like "state_outbox"');
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError('batchSize', 'expected a positive integer');
  if (options.fromOffset !== undefined && !/^\d+$/.test(options.fromOffset))
    throw new ConfigError('fromOffset', 'expected a decimal row id');
  const table = options.table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
  return {
    async migrate() {
      await options.db.query(`CREATE TABLE IF NOT EXISTS ${table} (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        version bigint NOT NULL,
        type text NOT NULL CHECK (type IN ('CREATED', 'UPDATED', 'DELETED')),
        value jsonb,
        created_at timestamptz NOT NULL DEFAULT now())`);
    },
    async append(events, db = options.db) {
      if (events.length === 0) return;
      const params: unknown[] = [];
      const rows = events.map((e, i) => {
        params.push(e.key, e.version, e.type, e.value === undefined ? null : JSON.stringify(e.value));
        return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}::jsonb)`;
      });
      await db.query(`INSERT INTO ${table} (key, version, type, value) VALUES ${rows.join(', ')}`, params);
    },
    async *read({ fromOffset, signal }: SourceReadOptions): AsyncGenerator<SourceRecord<T>> {
      let after = fromOffset ?? options.fromOffset ?? '0';
      for (;;) {
        signal.throwIfAborted();
        const { rows } = await options.db.query(
          // The offset gets its own alias: `ORDER BY id` must sort the bigint column, not a text alias.
          `SELECT id::text AS row_offset, key, version::text AS version, type, value FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`,
          [after, batchSize],
        );
        if (rows.length === 0) return;
        for (const row of rows) {
          after = String(row.row_offset);
          const type = row.type as StateEventType;
          const event: StateEvent<T> = { key: String(row.key), version: Number(row.version), type };
          if (type !== 'DELETED') event.value = row.value as T;
          yield { offset: after, event };
        }
      }
    },
  };
}
