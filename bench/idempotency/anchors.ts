// The two stores @cxkit/idempotency is compared with, on the same Postgres server.
import type { Queryable } from '@cxkit/idempotency';
import type { Idempotency } from '@node-idempotency/core';
import type { StorageAdapter } from '@node-idempotency/storage';

export type Reply = { status: number; body: unknown };

/**
 * The seed's naive design: INSERT the key, and on a unique violation SELECT the existing row; the
 * winner runs the handler and UPDATEs the row with its response. Every repeat costs two queries.
 */
export class PlainStore {
  constructor(
    private readonly db: Queryable,
    readonly table: string,
  ) {}

  async migrate(): Promise<void> {
    await this.db.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
      key text PRIMARY KEY, fingerprint text NOT NULL, state text NOT NULL, response json,
      expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours')`);
  }

  async execute(key: string, fingerprint: string, handler: () => Promise<Reply>): Promise<Reply> {
    try {
      await prepared(
        this.db,
        `${this.table}_ins`,
        `INSERT INTO ${this.table} (key, fingerprint, state) VALUES ($1, $2, 'in_progress')`,
        [key, fingerprint],
      );
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      const { rows } = await prepared(
        this.db,
        `${this.table}_sel`,
        `SELECT fingerprint, state, response FROM ${this.table} WHERE key = $1`,
        [key],
      );
      const row = rows[0];
      if (row.fingerprint !== fingerprint) return { status: 422, body: null };
      return row.state === 'completed' ? row.response : { status: 409, body: null };
    }
    const reply = await handler();
    await prepared(
      this.db,
      `${this.table}_upd`,
      `UPDATE ${this.table} SET state = 'completed', response = $2 WHERE key = $1`,
      [key, JSON.stringify(reply)],
    );
    return reply;
  }
}

/** A Postgres StorageAdapter for @node-idempotency/core (the project publishes memory and Redis ones only). */
export class PostgresStorage implements StorageAdapter {
  constructor(
    private readonly db: Queryable,
    readonly table: string,
  ) {}

  async migrate(): Promise<void> {
    await this.db.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (key text PRIMARY KEY, val text NOT NULL, expires_at timestamptz NOT NULL)`,
    );
  }

  // DO NOTHING keeps a repeat a plain read (no row lock); expired rows are left to a sweeper, as a
  // Redis SET NX PX would expire them. The bench never reuses an expired key.
  async setIfNotExists(key: string, val: string, { ttl = 86_400_000 } = {}): Promise<boolean> {
    const { rows } = await prepared(
      this.db,
      `${this.table}_setnx`,
      `INSERT INTO ${this.table} (key, val, expires_at) VALUES ($1, $2, now() + $3::integer * interval '1 millisecond')
       ON CONFLICT (key) DO NOTHING RETURNING 1`,
      [key, val, ttl],
    );
    return rows.length === 1;
  }

  async set(key: string, val: string, { ttl = 86_400_000 }: { ttl?: number }): Promise<void> {
    await prepared(
      this.db,
      `${this.table}_set`,
      `INSERT INTO ${this.table} (key, val, expires_at) VALUES ($1, $2, now() + $3::integer * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET val = EXCLUDED.val, expires_at = EXCLUDED.expires_at`,
      [key, val, ttl],
    );
  }

  async get(key: string): Promise<string | undefined> {
    const { rows } = await prepared(
      this.db,
      `${this.table}_get`,
      `SELECT val FROM ${this.table} WHERE key = $1 AND expires_at > now()`,
      [key],
    );
    return rows[0]?.val;
  }
}

/** @node-idempotency/core's request/response protocol around one handler call. */
export async function nodeIdempotencyExecute(
  idem: Idempotency,
  key: string,
  body: Record<string, unknown>,
  handler: () => Promise<Reply>,
): Promise<Reply> {
  const req = { headers: { 'idempotency-key': key }, path: '/webhook', method: 'POST', body };
  try {
    const cached = await idem.onRequest<Reply, unknown>(req);
    if (cached) return cached.body as Reply;
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { status: String(code).includes('MISSMATCH') ? 422 : 409, body: null };
  }
  const reply = await handler();
  await idem.onResponse(req, { body: reply });
  return reply;
}

/** A db wrapper that counts statements; passes pg's `{ name, text, values }` through unchanged. */
export function counting(db: Queryable): Queryable & { count: number } {
  const wrapper = {
    count: 0,
    query(text: string, params?: unknown[]) {
      wrapper.count++;
      return (db.query as (t: unknown, p?: unknown[]) => ReturnType<Queryable['query']>).call(
        db,
        text,
        params,
      );
    },
  };
  return wrapper;
}

/** Every candidate, floor included, uses named prepared statements: the comparison is of round trips. */
export function prepared(db: Queryable, name: string, text: string, values: unknown[]) {
  return (db.query as unknown as (c: object) => ReturnType<Queryable['query']>).call(db, {
    name,
    text,
    values,
  });
}
