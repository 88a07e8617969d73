import { createHash } from 'node:crypto';
import type { CheckpointBackend, QuarantineEntry, RawCheckpoint, WriteOutcome } from '../backend.js';
import type { PreparedSave } from '../encode.js';
import {
  deleteSql,
  getSql,
  historySql,
  latestSql,
  quarantinedSql,
  quarantineSql,
  rewriteSql,
  saveSql,
  stateSql,
  sweepSql,
  type Tables,
} from './sql.js';

/** `pg.Pool`, `pg.Client` or anything with the same `query`. */
export interface QueryableLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A pg.Pool or pg.Client: has `connect()` and takes `{ name, text, values }` query configs. */
export const isPgPoolOrClient = (db: QueryableLike) =>
  typeof (db as { connect?: unknown }).connect === 'function';

interface Statement {
  /** Unique per text, so stores with other tables on the same connection never reuse a name. */
  name: string;
  text: string;
}

type QueryResult = { rows: unknown[]; rowCount?: number | null };

export interface PostgresBackendSettings {
  tables: Tables;
  history: number;
  ttlMs: number;
  maxAgeMs: number;
  maxQuarantined: number;
  /** Send statements as named prepared statements (parsed and planned once per connection). */
  prepared: boolean;
}

type Row = Record<string, unknown>;

/**
 * Statement texts are built once per store; every call is one round trip (failed saves: two). With
 * `prepared`, node-postgres prepares each statement once per connection: the save is one statement of
 * several CTEs whose parse and plan otherwise cost more than running it.
 */
export class PostgresBackend implements CheckpointBackend {
  readonly #sql: Record<string, Statement>;

  constructor(
    private readonly db: QueryableLike,
    private readonly settings: PostgresBackendSettings,
  ) {
    const t = settings.tables;
    const texts: Record<string, string> = {
      save: saveSql(t),
      state: stateSql(t),
      latest: latestSql(t),
      get: getSql(t),
      history: historySql(t),
      rewrite: rewriteSql(t),
      quarantine: quarantineSql(t),
      quarantined: quarantinedSql(t),
      delete: deleteSql(t),
      sweep: sweepSql(t),
    };
    this.#sql = {};
    for (const [key, text] of Object.entries(texts)) {
      const hash = createHash('sha1').update(text).digest('hex').slice(0, 16);
      this.#sql[key] = { name: `cxkit_checkpoint_${key}_${hash}`, text };
    }
  }

  #query(name: string, params: unknown[]): Promise<QueryResult> {
    const { name: statement, text } = this.#sql[name]!;
    if (!this.settings.prepared) return this.db.query(text, params);
    const query = this.db.query as unknown as (config: object) => Promise<QueryResult>;
    return query.call(this.db, { name: statement, text, values: params });
  }

  async #rows(name: string, params: unknown[]): Promise<Row[]> {
    return (await this.#query(name, params)).rows as Row[];
  }

  async write(sessionId: string, save: PreparedSave): Promise<WriteOutcome> {
    const { history, ttlMs, maxAgeMs } = this.settings;
    const params = [
      sessionId,
      save.body,
      save.expectedRevision ?? null,
      save.fence ?? null,
      history,
      ttlMs,
      maxAgeMs,
    ];
    const [row] = await this.#rows('save', params);
    if (row) return { ok: true, revision: Number(row.revision), savedAtMs: Number(row.saved_at) };
    const [state] = await this.#rows('state', [sessionId, maxAgeMs, save.body]);
    if (state?.same === true && state.saved_at != null) {
      return { ok: true, revision: Number(state.revision), savedAtMs: Number(state.saved_at) };
    }
    const actualRevision = state ? Number(state.revision) : 0;
    const highest = state?.fence == null ? undefined : Number(state.fence);
    if (save.fence !== undefined && highest !== undefined && save.fence < highest) {
      return { ok: false, kind: 'stale-fence', highestFence: highest, actualRevision };
    }
    return { ok: false, kind: 'conflict', actualRevision };
  }

  async latest(sessionId: string): Promise<RawCheckpoint | undefined> {
    const [row] = await this.#rows('latest', [sessionId, this.settings.maxAgeMs]);
    return row ? { revision: Number(row.revision), raw: String(row.payload) } : undefined;
  }

  async get(sessionId: string, revision: number): Promise<RawCheckpoint | undefined> {
    const { history, maxAgeMs } = this.settings;
    const [row] = await this.#rows('get', [sessionId, history, revision, maxAgeMs]);
    return row ? { revision: Number(row.revision), raw: String(row.payload) } : undefined;
  }

  async history(sessionId: string, limit: number): Promise<RawCheckpoint[]> {
    const { history, maxAgeMs } = this.settings;
    const rows = await this.#rows('history', [sessionId, history, limit, maxAgeMs]);
    return rows.map((row) => ({ revision: Number(row.revision), raw: String(row.payload) }));
  }

  async rewrite(sessionId: string, revision: number, read: string, raw: string): Promise<boolean> {
    const result = await this.#query('rewrite', [sessionId, revision, raw, this.settings.maxAgeMs, read]);
    return (result.rowCount ?? 0) > 0;
  }

  async quarantine(sessionId: string, entry: QuarantineEntry): Promise<boolean> {
    const { maxQuarantined, maxAgeMs } = this.settings;
    const params = [sessionId, entry.revision, entry.entry, maxQuarantined, maxAgeMs];
    const [row] = await this.#rows('quarantine', params);
    return Number(row?.kept ?? 0) > 0;
  }

  async quarantined(sessionId: string): Promise<string[]> {
    const rows = await this.#rows('quarantined', [sessionId, this.settings.maxAgeMs]);
    return rows.map((row) => String(row.entry));
  }

  async delete(sessionId: string): Promise<boolean> {
    const [row] = await this.#rows('delete', [sessionId]);
    return row?.removed === true;
  }

  async sweep(limit: number): Promise<number> {
    const [row] = await this.#rows('sweep', [limit]);
    return Number(row?.removed ?? 0);
  }
}
