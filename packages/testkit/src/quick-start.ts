import { readFileSync } from 'node:fs';
import { type PostgresHandle, startPostgres } from './postgres.js';
import { type RedisNodes, startRedisNodes } from './redis-nodes.js';
import { spawnTs } from './spawn-ts.js';

/** The first ```ts block under `## Quick start` in the README at `readme` (undefined if there is none). */
export function quickStartBlock(readme: URL): string | undefined {
  const text = readFileSync(readme, 'utf8');
  const at = text.indexOf('## Quick start');
  if (at < 0) return undefined;
  return /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1];
}

/** Runs a TypeScript file (as `spawnTs`) until it exits: its exit code and everything it printed. */
export async function runTs(
  file: URL | string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawnTs(typeof file === 'string' ? file : file.pathname, [], { env });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

/** What a package's README quick-start test needs: the servers its fixture uses, the fixture and the block. */
export interface QuickStart {
  /** `test/fixtures/quickstart.ts` of the package. */
  readonly fixture: URL;
  /** The README's quick-start block and the fixture's text: a test expects them equal. */
  block(): string | undefined;
  fixtureText(): string;
  /** Starts the servers (call in `beforeAll`); `stop()` in `afterAll`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The private Redis master's URL (with `redis: true`). */
  readonly redisUrl: string;
  /** The PostgreSQL URL (with `postgres: true`). */
  readonly databaseUrl: string;
  /** Runs the fixture with `REDIS_URL` / `DATABASE_URL` set, plus `env`. */
  run(env?: Record<string, string | undefined>): Promise<{ code: number | null; out: string }>;
}

/**
 * The shared part of a README quick-start test in `testFile` (its `import.meta.url`): the package's
 * README and fixture, a private Redis master and/or PostgreSQL for the fixture.
 */
export function quickStart(testFile: string, needs: { redis?: boolean; postgres?: boolean }): QuickStart {
  const fixture = new URL('./fixtures/quickstart.ts', testFile);
  let nodes: RedisNodes | undefined;
  let postgres: PostgresHandle | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`quickStart: no ${what} (not asked for, or start() not awaited)`);
    return value;
  };
  const self: QuickStart = {
    fixture,
    block: () => quickStartBlock(new URL('../README.md', testFile)),
    fixtureText: () => readFileSync(fixture, 'utf8'),
    async start() {
      [nodes, postgres] = await Promise.all([
        needs.redis ? startRedisNodes(1, { private: true }) : undefined,
        needs.postgres ? startPostgres() : undefined,
      ]);
    },
    async stop() {
      await Promise.all([nodes?.stop(), postgres?.stop()]);
    },
    get redisUrl() {
      return started(nodes, 'Redis').urls[0]!;
    },
    get databaseUrl() {
      return started(postgres, 'PostgreSQL').url;
    },
    run: (env = {}) =>
      runTs(fixture, {
        ...(needs.redis ? { REDIS_URL: self.redisUrl } : {}),
        ...(needs.postgres ? { DATABASE_URL: self.databaseUrl } : {}),
        ...env,
      }),
  };
  return self;
}
