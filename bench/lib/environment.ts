import { execSync } from 'node:child_process';
import { cpus } from 'node:os';

function quiet(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** One line describing where the numbers came from. */
export function environmentLine(): string {
  const redis = quiet('redis-server --version').match(/v=(\S+)/)?.[1] ?? 'unknown';
  const pg = quiet('psql --version').match(/\d+(\.\d+)?/)?.[0] ?? 'unknown';
  return `Node ${process.version}, Redis ${redis}, PostgreSQL ${pg}, ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), loopback`;
}
