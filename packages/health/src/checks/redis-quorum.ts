import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../options.js';
import type { CheckDefinition, CheckResult, Observation, Status } from '../types.js';
import { ProbeGate, untilAborted } from './probe-gate.js';
import { type ClusterLike, type NodeProbe, parseInfo, probeGated, type RedisLike } from './redis-probe.js';

export type { ClusterLike, RedisLike } from './redis-probe.js';

const client = z.custom<RedisLike>((v) => typeof (v as RedisLike)?.call === 'function', {
  message: 'expected an ioredis client (with call())',
});
const cluster = z.custom<ClusterLike>((v) => (v as ClusterLike)?.isCluster === true, {
  message: 'expected an ioredis Cluster',
});

const schema = z
  .object({
    nodes: z.union([cluster, client, z.array(client).min(1)]),
    quorum: z.number().int().positive().optional(),
    minReplicasToWrite: z.number().int().min(0).optional(),
  })
  .strict();

export type RedisQuorumCheckOptions = z.input<typeof schema>;

/**
 * Why a node cannot take writes, or undefined when it can. A configured master that was demoted
 * (a Sentinel failover the client list did not follow, REPLICAOF) still answers INFO, but every
 * write to it fails with READONLY.
 */
function failure(p: NodeProbe): 'unreachable' | 'not-master' | 'not-writable' | undefined {
  if (!p.reachable) return 'unreachable';
  if (p.role !== 'master') return 'not-master';
  return p.acked < p.minReplicasToWrite ? 'not-writable' : undefined;
}

function nodeDetails(p: NodeProbe): Record<string, unknown> {
  const status = failure(p) ?? 'ok';
  if (status === 'unreachable') return { status, error: p.error };
  if (status === 'not-master') return { status, role: p.role ?? 'unknown', replica_of: p.replicaOf };
  return { status, role: p.role, replicas: p.replicas, replicas_acked: p.acked };
}

function summary(probes: NodeProbe[]) {
  const masters = probes.filter((p) => p.reachable && p.role === 'master');
  const failing = probes.filter((p) => failure(p) !== undefined);
  const nodes: Record<string, Record<string, unknown>> = {};
  for (const p of probes) nodes[p.node] = nodeDetails(p);
  return {
    masters: masters.length,
    replicas: masters.reduce((n, p) => n + p.replicas, 0),
    min_replicas_to_write: Math.max(0, ...probes.map((p) => p.minReplicasToWrite)),
    // The weakest master decides whether a quorum write can be acknowledged.
    current_replicas_acked: masters.length > 0 ? Math.min(...masters.map((p) => p.acked)) : 0,
    writable: probes.length - failing.length,
    failing,
    nodes,
  };
}

function describe(failing: NodeProbe[]): string | undefined {
  if (failing.length === 0) return undefined;
  return failing
    .map((p) => {
      const why = failure(p);
      if (why === 'unreachable') return `${p.node}: ${p.error}`;
      if (why === 'not-master') return `${p.node}: role ${p.role ?? 'unknown'}, not master`;
      return `${p.node}: ${p.acked}/${p.minReplicasToWrite} replicas acked`;
    })
    .join('; ');
}

/**
 * Redis quorum status (seed 001, section 4). Independent masters (an array, as `@cxkit/locks` uses
 * them): nodes that answer as master (a demoted one refuses writes) and meet `min-replicas-to-write`,
 * against `quorum` (majority by default); below quorum is `unhealthy`, any failing node `degraded`.
 * A Cluster: `cluster_state`, every master up and meeting `min-replicas-to-write` (each owns slots,
 * so one failing master is `unhealthy`).
 * The report names every failing node with its error.
 */
export function redisQuorumCheck(options: RedisQuorumCheckOptions): CheckDefinition {
  const o = parseWith(schema, options, 'redisQuorumCheck');
  const gate = new ProbeGate<RedisLike, NodeProbe>();
  const isCluster = (o.nodes as ClusterLike).isCluster === true;
  const list = isCluster ? [] : Array.isArray(o.nodes) ? (o.nodes as RedisLike[]) : [o.nodes as RedisLike];
  const quorum = o.quorum ?? Math.floor(list.length / 2) + 1;
  if (!isCluster && quorum > list.length) {
    throw new ConfigError('redisQuorumCheck.quorum', `must not exceed the number of nodes (${list.length})`);
  }

  async function independent(signal: AbortSignal): Promise<CheckResult> {
    const probes = await Promise.all(list.map((c) => probeGated(gate, c, o.minReplicasToWrite, signal)));
    const s = summary(probes);
    const status: Status = s.writable < quorum ? 'unhealthy' : s.failing.length > 0 ? 'degraded' : 'healthy';
    const { failing, ...details } = s;
    const result: CheckResult = { status, ...details, quorum };
    const error = describe(failing);
    if (error) result.error = error;
    return result;
  }

  async function clustered(signal: AbortSignal): Promise<CheckResult> {
    const c = o.nodes as ClusterLike;
    // ioredis keeps connections to masters only (unless scaleReads), so replicas are counted from
    // the masters' INFO replication and CLUSTER NODES rather than from the client's node list.
    const masters = c.nodes('master');
    const probes = await Promise.all(masters.map((m) => probeGated(gate, m, o.minReplicasToWrite, signal)));
    const s = summary(probes);
    const first = masters.find((_, i) => probes[i]?.reachable);
    let state = 'unknown';
    let replicasKnown = 0;
    if (first) {
      const [info, nodes] = await Promise.all([
        untilAborted(first.call('CLUSTER', 'INFO'), signal).catch(() => ''),
        untilAborted(first.call('CLUSTER', 'NODES'), signal).catch(() => ''),
      ]);
      state = parseInfo(String(info)).cluster_state ?? 'unknown';
      replicasKnown = String(nodes)
        .split('\n')
        .filter((line) =>
          (line.split(' ')[2] ?? '').split(',').some((f) => f === 'slave' || f === 'replica'),
        ).length;
    }
    const status: Status =
      state !== 'ok' || s.failing.length > 0
        ? 'unhealthy'
        : s.replicas < replicasKnown
          ? 'degraded'
          : 'healthy';
    const { failing, ...details } = s;
    const result: CheckResult = { status, cluster_state: state, ...details, replicas_known: replicasKnown };
    const error = describe(failing);
    if (error) result.error = error;
    return result;
  }

  return {
    componentType: 'datastore',
    check: isCluster ? clustered : independent,
    observe: (r) => {
      const out: Observation[] = [
        { measurement: 'masters', observedValue: r.masters },
        { measurement: 'replicasAcked', observedValue: r.current_replicas_acked },
      ];
      for (const [node, n] of Object.entries(
        (r.nodes ?? {}) as Record<string, { status: string; error?: string }>,
      )) {
        if (n.status !== 'ok')
          out.push({
            measurement: 'node',
            componentId: node,
            status: 'unhealthy',
            output: n.error ?? n.status,
          });
      }
      return out;
    },
  };
}
