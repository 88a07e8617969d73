import type { ProbeGate } from './probe-gate.js';

/** The narrow client shape the Redis check needs: an ioredis `Redis` satisfies it. */
export interface RedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  options?: { host?: string; port?: number };
}

/** An ioredis `Cluster` (or anything that lists its node clients the same way). */
export interface ClusterLike {
  readonly isCluster: boolean;
  nodes(role?: 'all' | 'master' | 'slave'): RedisLike[];
}

export interface NodeProbe {
  node: string;
  reachable: boolean;
  error?: string;
  role?: string;
  /** `host:port` of its master, when the node answers as a replica. */
  replicaOf?: string;
  /** Replicas online. */
  replicas: number;
  /** Replicas online within `min-replicas-max-lag`: the ones a write can count on. */
  acked: number;
  minReplicasToWrite: number;
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export function nodeName(client: RedisLike): string {
  return `${client.options?.host ?? '127.0.0.1'}:${client.options?.port ?? 6379}`;
}

async function configNumber(client: RedisLike, name: string): Promise<number | undefined> {
  try {
    const reply = (await client.call('CONFIG', 'GET', name)) as string[];
    const value = Number(reply?.[1]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    // CONFIG is often renamed or ACL-denied on managed Redis: fall back to the configured option.
    return undefined;
  }
}

/** INFO replication plus the min-replicas settings of one node. */
export async function probeNode(
  client: RedisLike,
  minReplicasOverride: number | undefined,
): Promise<NodeProbe> {
  const [infoText, minToWrite, maxLag] = await Promise.all([
    client.call('INFO', 'replication') as Promise<string>,
    minReplicasOverride === undefined ? configNumber(client, 'min-replicas-to-write') : minReplicasOverride,
    configNumber(client, 'min-replicas-max-lag'),
  ]);
  const info = parseInfo(String(infoText));
  let replicas = 0;
  let acked = 0;
  for (const [key, value] of Object.entries(info)) {
    if (!/^slave\d+$/.test(key)) continue;
    const fields = Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]));
    if (fields.state !== 'online') continue;
    replicas++;
    if (Number(fields.lag ?? 0) <= (maxLag ?? 10)) acked++;
  }
  const probe: NodeProbe = {
    node: nodeName(client),
    reachable: true,
    role: info.role,
    replicas,
    acked,
    minReplicasToWrite: minToWrite ?? 0,
  };
  if (info.master_host) probe.replicaOf = `${info.master_host}:${info.master_port}`;
  return probe;
}

/**
 * `probeNode` through `gate`; a node that fails, or does not answer before `signal` aborts, is
 * unreachable.
 */
export function probeGated(
  gate: ProbeGate<RedisLike, NodeProbe>,
  client: RedisLike,
  minReplicas: number | undefined,
  signal: AbortSignal,
): Promise<NodeProbe> {
  return gate
    .run(client, () => probeNode(client, minReplicas), signal)
    .catch(
      (err: unknown): NodeProbe => ({
        node: nodeName(client),
        reachable: false,
        error: err instanceof Error ? err.message : String(err),
        replicas: 0,
        acked: 0,
        minReplicasToWrite: minReplicas ?? 0,
      }),
    );
}
