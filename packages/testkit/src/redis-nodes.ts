import { spawnSync } from 'node:child_process';
import { TestkitUnavailableError } from './errors.js';
import { RedisNode, type RedisNodeOptions } from './redis-node.js';

export interface StartRedisNodesOptions extends RedisNodeOptions {
  /** Always start private processes, ignoring `REDIS_NODES`/`REDIS_URL` (needed for fault tests). */
  private?: boolean;
}

/** A group of independent Redis masters. */
export interface RedisNodes extends AsyncDisposable {
  readonly nodes: RedisNode[];
  readonly urls: string[];
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  try {
    return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

function fromEnvironment(n: number): RedisNode[] | undefined {
  const listed =
    process.env.REDIS_NODES?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  if (listed.length >= n) return listed.slice(0, n).map((url) => RedisNode.external(url));
  if (n === 1 && process.env.REDIS_URL) return [RedisNode.external(process.env.REDIS_URL)];
  return undefined;
}

function group(nodes: RedisNode[]): RedisNodes {
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.destroy()));
  };
  return { nodes, urls: nodes.map((node) => node.url), stop, [Symbol.asyncDispose]: stop };
}

/**
 * Starts `n` independent Redis masters on free loopback ports, each in its own temp dir.
 * Order of preference: `REDIS_NODES`/`REDIS_URL` from the environment (unless `private`), then local
 * `redis-server` processes. Without either, it throws naming both (Redis in Docker is not spawned for
 * fault tests because SIGSTOP/SIGKILL must reach the server process itself).
 */
export async function startRedisNodes(n: number, options: StartRedisNodesOptions = {}): Promise<RedisNodes> {
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(`startRedisNodes: n must be a positive integer, got ${n}`);
  const { private: own, ...nodeOptions } = options;
  if (!own) {
    const external = fromEnvironment(n);
    if (external) return group(external);
  }
  if (!hasRedisServer()) {
    throw new TestkitUnavailableError(`${n} Redis node(s)`, [
      `REDIS_NODES (comma-separated URLs, needs ${n}) or REDIS_URL (n = 1): ${own ? 'ignored, private nodes asked for' : 'not set'}`,
      'redis-server on PATH: not found (Debian: apt-get install redis-server)',
    ]);
  }
  const started = await Promise.allSettled(Array.from({ length: n }, () => RedisNode.start(nodeOptions)));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw failed.reason;
  }
  return group(nodes);
}
