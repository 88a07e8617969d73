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

export interface PostgresBackendSettings {
  tables: Tables;
  history: number;
  ttlMs: number;
  maxAgeMs: number;
  maxQuarantined: number;
}

type Row = Record<string, unknown>;

/** Statement texts are built once per store; every call is one round trip (failed saves: two). */
export class PostgresBackend implements CheckpointBackend {
  readonly #sql: Record<string, string>;

  constructor(
    private readonly db: QueryableLike,
    private readonly settings: PostgresBackendSettings,
  ) {
    const t = settings.tables;
    this.#sql = {
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
  }

  async #rows(name: string, params: unknown[]): Promise<Row[]> {
    return (await this.db.query(this.#sql[name]!, params)).rows as Row[];
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
    const [state] = await this.#rows('state', [sessionId]);
    const actualRevision = state ? Number(state.revision) : 0;
    const highest = state?.fence == null ? undefined : Number(state.fence);
    if (save.fence !== undefined && highest !== undefined && save.fence < highest) {
      return { ok: false, kind: 'stale-fence', highestFence: highest, actualRevision };
    }
    return { ok: false, kind: 'conflict', actualRevision };
  }

  async latest(sessionId: string): Promise<RawCheckpoint | undefined> {
    const [row] = await this.#rows('latest', [sessionId]);
    return row ? { revision: Number(row.revision), raw: String(row.payload) } : undefined;
  }

  async get(sessionId: string, revision: number): Promise<RawCheckpoint | undefined> {
    const [row] = await this.#rows('get', [sessionId, this.settings.history, revision]);
    return row ? { revision: Number(row.revision), raw: String(row.payload) } : undefined;
  }

  async history(sessionId: string, limit: number): Promise<RawCheckpoint[]> {
    const rows = await this.#rows('history', [sessionId, this.settings.history, limit]);
    return rows.map((row) => ({ revision: Number(row.revision), raw: String(row.payload) }));
  }

  async rewrite(sessionId: string, revision: number, raw: string): Promise<boolean> {
    const result = (await this.db.query(this.#sql.rewrite!, [sessionId, revision, raw])) as {
      rowCount?: number | null;
    };
    return (result.rowCount ?? 0) > 0;
  }

  async quarantine(sessionId: string, entry: QuarantineEntry): Promise<boolean> {
    const params = [sessionId, entry.revision, entry.entry, this.settings.maxQuarantined];
    const [row] = await this.#rows('quarantine', params);
    return Number(row?.kept ?? 0) > 0;
  }

  async quarantined(sessionId: string): Promise<string[]> {
    return (await this.#rows('quarantined', [sessionId])).map((row) => String(row.entry));
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
