import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TestkitUnavailableError, UncontrolledServerError } from './errors.js';
import { postgresBinDir } from './postgres-binaries.js';
import { PostgresServer } from './postgres-server.js';

export interface StartPostgresOptions {
  /** Always start a private initdb cluster (needed for kill/pause/restart), ignoring env and local server. */
  private?: boolean;
}

/** A database for one test file or bench run. */
export interface PostgresHandle extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Where it came from: `env`, `local`, `initdb` or `container`. */
  readonly source: 'env' | 'local' | 'initdb' | 'container';
  /** The owned server for fault operations, when `source` is `initdb`. */
  readonly server: PostgresServer | undefined;
  stop(): Promise<void>;
  kill(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  restart(): Promise<void>;
}

const LOCAL_URLS = [
  'postgres://postgres@127.0.0.1:5432/postgres',
  `postgres://${process.env.USER ?? 'root'}@127.0.0.1:5432/postgres`,
];

async function tryConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a uniquely named database on a shared server and drops it (FORCE) on stop. */
async function throwawayDatabase(
  adminUrl: string,
  source: 'env' | 'local',
): Promise<PostgresHandle | undefined> {
  const name = `cxkit_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => {});
  }
  const url = withDatabase(adminUrl, name);
  const uncontrolled = (op: string) => async () => {
    throw new UncontrolledServerError(op, url);
  };
  const stop = async () => {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end().catch(() => {});
    }
  };
  return {
    url,
    port: Number(new URL(url).port || 5432),
    source,
    server: undefined,
    stop,
    kill: uncontrolled('kill'),
    pause: uncontrolled('pause'),
    resume: uncontrolled('resume'),
    restart: uncontrolled('restart'),
    [Symbol.asyncDispose]: stop,
  };
}

function ownedHandle(server: PostgresServer): PostgresHandle {
  const stop = () => server.destroy();
  return {
    get url() {
      return server.url;
    },
    port: server.port,
    source: 'initdb',
    server,
    stop,
    kill: () => server.kill(),
    pause: () => server.pause(),
    resume: () => server.resume(),
    restart: () => server.restart(),
    [Symbol.asyncDispose]: stop,
  };
}

async function container(): Promise<PostgresHandle> {
  const moduleName = 'testcontainers';
  const tc = (await import(moduleName)) as typeof import('testcontainers');
  const started = await new tc.GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(tc.Wait.forLogMessage(/ready to accept connections/, 2))
    .start();
  const url = `postgres://postgres@${started.getHost()}:${started.getMappedPort(5432)}/postgres`;
  const stop = async () => {
    await started.stop();
  };
  return {
    url,
    port: started.getMappedPort(5432),
    source: 'container',
    server: undefined,
    stop,
    kill: async () => {
      await started.stop({ timeout: 0 });
    },
    pause: async () => {
      await started.exec(['sh', '-c', 'kill -STOP 1']);
    },
    resume: async () => {
      await started.exec(['sh', '-c', 'kill -CONT 1']);
    },
    restart: () => started.restart(),
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * A PostgreSQL database for a test: `DATABASE_URL` if set, else a throwaway database on the local
 * server (127.0.0.1:5432), else a private initdb cluster from PostgreSQL's binaries, else a container
 * when a Docker engine answers. `{ private: true }` skips straight to the private cluster.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const attempts: string[] = [];
  if (!options.private) {
    const envUrl = process.env.DATABASE_URL;
    if (envUrl) {
      const handle = await throwawayDatabase(envUrl, 'env');
      if (handle) return handle;
      if (await tryConnect(envUrl)) {
        const noop = async () => {};
        const refuse = (op: string) => async () => {
          throw new UncontrolledServerError(op, envUrl);
        };
        return {
          url: envUrl,
          port: Number(new URL(envUrl).port || 5432),
          source: 'env',
          server: undefined,
          stop: noop,
          kill: refuse('kill'),
          pause: refuse('pause'),
          resume: refuse('resume'),
          restart: refuse('restart'),
          [Symbol.asyncDispose]: noop,
        };
      }
      attempts.push(`DATABASE_URL=${envUrl}: could not connect`);
    } else {
      attempts.push('DATABASE_URL: not set');
    }
    let local: PostgresHandle | undefined;
    for (const url of LOCAL_URLS) {
      local = await throwawayDatabase(url, 'local');
      if (local) return local;
    }
    attempts.push('local server on 127.0.0.1:5432: no connection or no CREATE DATABASE permission');
  } else {
    attempts.push('DATABASE_URL and local server: skipped, a private server was asked for');
  }
  if (postgresBinDir()) {
    try {
      return ownedHandle(await PostgresServer.init());
    } catch (err) {
      attempts.push(`private initdb cluster: ${(err as Error).message}`);
    }
  } else {
    attempts.push('private initdb cluster: initdb/postgres binaries not found (set PG_BINDIR)');
  }
  try {
    return await container();
  } catch (err) {
    attempts.push(`testcontainers: ${(err as Error).message.split('\n')[0]}`);
  }
  throw new TestkitUnavailableError('PostgreSQL', attempts);
}

/** A primary with one streaming standby (pg_basebackup), both private, for replication tests. */
export async function startPostgresReplication(): Promise<{
  primary: PostgresServer;
  standby: PostgresServer;
  stop(): Promise<void>;
}> {
  const primary = await PostgresServer.init({ replication: true });
  try {
    const standby = await PostgresServer.standbyOf(primary);
    return {
      primary,
      standby,
      stop: async () => {
        await standby.destroy();
        await primary.destroy();
      },
    };
  } catch (err) {
    await primary.destroy();
    throw err;
  }
}
