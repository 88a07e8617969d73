import { startPostgres } from '@cxkit/testkit';
import { startEmbeddedPostgres } from './pglite-server.js';

export interface DemoDatabase {
  url: string;
  /** `env` (DATABASE_URL), `local` (throwaway database on 127.0.0.1:5432), `initdb`, `container` or `pglite`. */
  source: string;
  stop(): Promise<void>;
}

/**
 * Picks the demo's database: `DATABASE_URL`, else a throwaway database on the local server or a private
 * cluster from PostgreSQL's binaries (testkit), else embedded PGlite over the wire. `CXKIT_DEMO_PGLITE=1`
 * forces PGlite (what a machine with only `redis-server` gets).
 */
export async function demoDatabase(): Promise<DemoDatabase> {
  if (process.env.CXKIT_DEMO_PGLITE !== '1') {
    try {
      const pg = await startPostgres();
      return { url: pg.url, source: pg.source, stop: () => pg.stop() };
    } catch (err) {
      if (process.env.DATABASE_URL) throw err;
    }
  }
  const embedded = await startEmbeddedPostgres();
  return { url: embedded.url, source: 'pglite', stop: embedded.stop };
}
