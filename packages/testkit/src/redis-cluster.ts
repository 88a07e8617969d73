import { spawn } from 'node:child_process';
import { TestkitUnavailableError } from './errors.js';
import { RedisNode } from './redis-node.js';
import { hasRedisServer } from './redis-nodes.js';
import { parseInfo } from './resp.js';
import { waitUntil } from './wait.js';

export interface StartRedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
}

interface ClusterNodeLine {
  id: string;
  port: number;
  role: 'master' | 'replica';
  masterId: string | undefined;
  firstSlot: number;
  failed: boolean;
}

function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, masterId, , , , , ...slots] = line.split(' ');
      const port = Number(addr!.split('@')[0]!.split(':')[1]);
      const firstSlot = slots.length > 0 ? Number(slots[0]!.split('-')[0]) : Number.POSITIVE_INFINITY;
      return {
        id: id!,
        port,
        role: flags!.includes('master') ? 'master' : 'replica',
        masterId: masterId === '-' ? undefined : masterId,
        firstSlot,
        failed: flags!.includes('fail'),
      };
    });
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${out}`)),
    );
  });
}

/** A real Redis Cluster: masters own the slots, each with its replicas; every node is a `RedisNode`. */
export class RedisCluster implements AsyncDisposable {
  private constructor(readonly nodes: RedisNode[]) {}

  static async start(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    if (!hasRedisServer()) {
      throw new TestkitUnavailableError('Redis Cluster', [
        'redis-server on PATH: not found (apt-get install redis-server)',
      ]);
    }
    const nodes = await Promise.all(
      Array.from({ length: masters * (1 + replicas) }, () => RedisNode.start({ cluster: true })),
    );
    const cluster = new RedisCluster(nodes);
    try {
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** `[{ host, port }]` for `new Redis.Cluster(startupNodes)`. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  async #topology(): Promise<ClusterNodeLine[]> {
    for (const node of this.nodes) {
      if (!node.running || node.paused) continue;
      try {
        return parseClusterNodes(await node.command('CLUSTER', 'NODES'));
      } catch {
        // try the next node
      }
    }
    throw new Error('no cluster node answered CLUSTER NODES');
  }

  #byPort(port: number): RedisNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`cluster node on port ${port} is not part of this cluster`);
    return node;
  }

  /** Current masters ordered by the first slot they own (master 0 owns slot 0). */
  async masters(): Promise<RedisNode[]> {
    const lines = (await this.#topology()).filter(
      (l) => l.role === 'master' && !l.failed && Number.isFinite(l.firstSlot),
    );
    return lines.sort((a, b) => a.firstSlot - b.firstSlot).map((l) => this.#byPort(l.port));
  }

  /** Replicas of the given master. */
  async replicasOf(master: RedisNode): Promise<RedisNode[]> {
    const lines = await this.#topology();
    const id = lines.find((l) => l.port === master.port)?.id;
    return lines
      .filter((l) => l.role === 'replica' && l.masterId === id && !l.failed)
      .map((l) => this.#byPort(l.port));
  }

  /** The master that owns `slot`. */
  async masterForSlot(slot: number): Promise<RedisNode> {
    for (const node of await this.masters()) {
      const text = await node.command('CLUSTER', 'NODES');
      const me = text.split('\n').find((l) => l.includes('myself'));
      for (const range of me?.split(' ').slice(8) ?? []) {
        const [lo, hi] = range.split('-').map(Number);
        if (slot >= lo! && slot <= (hi ?? lo)!) return node;
      }
    }
    throw new Error(`no master owns slot ${slot}`);
  }

  /** Waits until every running node says `cluster_state:ok` and every replica is linked and synced. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      'cluster_state:ok on every node with replicas in sync',
      async () => {
        for (const node of this.nodes) {
          if (!node.running || node.paused) continue;
          const info = parseInfo(await node.command('CLUSTER', 'INFO'));
          if (info.cluster_state !== 'ok') return false;
          const repl = parseInfo(await node.command('INFO', 'replication'));
          if (
            repl.role === 'slave' &&
            (repl.master_link_status !== 'up' || repl.master_sync_in_progress !== '0')
          ) {
            return false;
          }
        }
        return true;
      },
      timeoutMs,
      100,
    );
  }

  /**
   * Promotes a replica of master `masterIndex` (by slot order) with `CLUSTER FAILOVER` and waits until
   * it serves as master and the cluster is healthy again. Resolves to the promoted node.
   */
  async failover(
    masterIndex: number,
    mode: 'default' | 'FORCE' | 'TAKEOVER' = 'default',
  ): Promise<RedisNode> {
    const master = (await this.masters())[masterIndex];
    if (!master) throw new RangeError(`failover: no master at index ${masterIndex}`);
    const replica = (await this.replicasOf(master))[0];
    if (!replica) throw new Error(`failover: master on port ${master.port} has no replica`);
    await (mode === 'default'
      ? replica.command('CLUSTER', 'FAILOVER')
      : replica.command('CLUSTER', 'FAILOVER', mode));
    await waitUntil(`replica ${replica.port} promoted`, async () => {
      const repl = parseInfo(await replica.command('INFO', 'replication'));
      return repl.role === 'master';
    });
    // Gossip spreads the new roles a moment later: wait until every node sees them, so callers (and
    // masters()/masterForSlot()) never read a view that still has the old master owning the slots.
    await waitUntil(`all nodes to see ${replica.port} as master of ${master.port}'s slots`, async () => {
      for (const node of this.nodes) {
        if (!node.running || node.paused) continue;
        const lines = parseClusterNodes(await node.command('CLUSTER', 'NODES'));
        const promoted = lines.find((l) => l.port === replica.port);
        const demoted = lines.find((l) => l.port === master.port);
        if (promoted?.role !== 'master' || !Number.isFinite(promoted.firstSlot)) return false;
        if (demoted && Number.isFinite(demoted.firstSlot)) return false;
      }
      return true;
    });
    await this.waitHealthy();
    return replica;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Starts a real Redis Cluster (default: the seed's 3 masters + 3 replicas) and waits until it is healthy. */
export function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  return RedisCluster.start(options);
}
