import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Directory holding PostgreSQL's server binaries (`initdb`, `postgres`, `pg_basebackup`), if any. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BINDIR && existsSync(join(process.env.PG_BINDIR, 'initdb')))
    return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(root, v, 'bin');
      if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
    }
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const initdb = which.stdout?.trim();
  if (which.status === 0 && initdb) return join(initdb, '..');
  return undefined;
}

/** PostgreSQL refuses to run as root: pick the system user to run private clusters as. */
export function postgresRunUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0 ? 'postgres' : 'nobody';
}
