import { randomBytes } from 'node:crypto';
import { type PostgresHandle, startPostgres } from '@cxkit/testkit';
import pg from 'pg';
import { IdempotencyStore, type IdempotencyStoreOptions, type Queryable } from '../src/index.js';

/** A db wrapper that counts statements, to prove round-trip budgets. */
export function counting(db: Queryable): Queryable & { count: number; texts: string[] } {
  const wrapper = {
    count: 0,
    texts: [] as string[],
    query(text: string, params?: unknown[]) {
      wrapper.count++;
      if (wrapper.texts.length < 1000) wrapper.texts.push(text.slice(0, 40));
      return db.query(text, params);
    },
  };
  return wrapper;
}

export function newPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 2_000 });
  // A restarted server makes idle clients emit errors; the store reports them on the next query.
  pool.on('error', () => {});
  return pool;
}

export const uniqueTable = () => `idem_${randomBytes(4).toString('hex')}`;

export interface Fixture {
  pg: PostgresHandle;
  pool: pg.Pool;
  stores: IdempotencyStore[];
  pools: pg.Pool[];
  store(options?: Partial<IdempotencyStoreOptions>): Promise<IdempotencyStore>;
  /** `n` stores on one table, each on its own pool of `poolMax` (pods), statement-counted; migrated. */
  pods(n: number, table: string, poolMax: number): Promise<Pod[]>;
  close(): Promise<void>;
}

export interface Pod {
  db: ReturnType<typeof counting>;
  store: IdempotencyStore;
}

/** One database per test file; `store()` creates a migrated store on a fresh table unless one is given. */
export async function fixture(options: { private?: boolean } = {}): Promise<Fixture> {
  const handle = await startPostgres(options);
  const pool = newPool(handle.url);
  const f: Fixture = {
    pg: handle,
    pool,
    stores: [],
    pools: [pool],
    async store(opts = {}) {
      const s = new IdempotencyStore({ db: pool, table: uniqueTable(), ...opts });
      await s.migrate();
      f.stores.push(s);
      return s;
    },
    async pods(n, table, poolMax) {
      const list = Array.from({ length: n }, () => {
        const own = newPool(handle.url, poolMax);
        f.pools.push(own);
        const db = counting(own);
        const store = new IdempotencyStore({ db, table });
        f.stores.push(store);
        return { db, store };
      });
      await list[0]?.store.migrate();
      return list;
    },
    async close() {
      for (const s of f.stores) await s.close();
      for (const p of f.pools) await p.end().catch(() => {});
      await handle.stop();
    },
  };
  return f;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
