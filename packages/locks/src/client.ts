import type { Cluster, Redis } from 'ioredis';

/** The commands of a single ioredis client that the manager uses (pass your own `new Redis(...)`). */
export type RedisClient = Pick<Redis, 'evalsha' | 'eval' | 'pipeline' | 'duplicate' | 'publish'>;

/** The commands of an ioredis `Cluster` that the manager uses. */
export type RedisClusterClient = Pick<
  Cluster,
  'evalsha' | 'eval' | 'pipeline' | 'duplicate' | 'publish' | 'isCluster'
>;

/** One master, one Cluster, or an array of independent masters (Redlock quorum). */
export type LockNodes = RedisClient | RedisClusterClient | readonly RedisClient[];

type Arg = string | number;

/** What the manager calls internally; ioredis' `Redis` and `Cluster` both satisfy it at runtime. */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  eval(source: string, numKeys: number, ...args: Arg[]): Promise<unknown>;
  pipeline(): PipelineLike;
  duplicate(): SubscriberClient;
  publish(channel: string, message: string): Promise<unknown>;
  isCluster?: boolean;
  /** ioredis `Cluster` only: reloads the slot map. */
  refreshSlotsCache?(callback: (err?: Error | null) => void): void;
  /** ioredis `Cluster` only: its connections by node (a MOVED or ASK names the node to ask). */
  connectionPool?: {
    findOrCreate(node: { host: string; port: number }): NodeConnection;
    getInstanceByKey?(key: string): NodeConnection | undefined;
  };
  /** ioredis `Cluster` only: per slot, the `host:port` keys of its master and replicas. */
  slots?: (string[] | undefined)[];
  /** ioredis `Cluster` only: maps a node's announced `host:port` to the address to connect to (`natMap`). */
  natMapper?(address: string): { host: string; port: number };
  options?: { host?: string; port?: number; keyPrefix?: string; enableAutoPipelining?: boolean };
  /** ioredis `Redis` only: its socket, corked around a batch of calls so they leave in one write. */
  stream?: { cork?(): void; uncork?(): void };
  /** ioredis `Redis` only: `'ready'` while commands go out on the current connection. */
  status?: string;
  /** ioredis `Redis` only: told of each new connection (`'ready'`). */
  on?(event: 'ready', listener: () => void): unknown;
}

/** One node's own connection (an ioredis `Redis`), as a Cluster's pool holds it. */
export type NodeConnection = Pick<ScriptClient, 'pipeline' | 'status' | 'on' | 'options'>;

export interface PipelineLike {
  evalsha(sha: string, numKeys: number, ...args: Arg[]): PipelineLike;
  eval(source: string, numKeys: number, ...args: Arg[]): PipelineLike;
  call(command: string, ...args: Arg[]): PipelineLike;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export interface SubscriberClient {
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  ping(): Promise<unknown>;
  disconnect(): void;
}

export type Topology = 'single' | 'cluster' | 'quorum';

/** Sorts the `nodes` option into a topology and a list of script clients. */
export function topologyOf(nodes: LockNodes): { topology: Topology; clients: ScriptClient[] } {
  if (Array.isArray(nodes)) return { topology: 'quorum', clients: nodes as unknown as ScriptClient[] };
  const client = nodes as unknown as ScriptClient;
  return { topology: client.isCluster === true ? 'cluster' : 'single', clients: [client] };
}

/** `host:port` of a single client, or `cluster`. */
export function labelOf(client: ScriptClient, index: number): string {
  if (client.isCluster) return 'cluster';
  const o = client.options;
  return o?.port ? `${o.host ?? '127.0.0.1'}:${o.port}` : `node${index}`;
}
