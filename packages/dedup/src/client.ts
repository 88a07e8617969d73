/** What `@cxkit/dedup` needs from a waiting-for-results subscriber connection (`redis.duplicate()`). */
export interface DedupSubscriber {
  /** ioredis connection status; with `once` and `connect`, lets a wait subscribe once connected. */
  readonly status?: string;
  once?(event: 'ready' | 'end', listener: () => void): unknown;
  connect?(): Promise<unknown>;
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A pipeline as returned by ioredis `pipeline()`; script commands are added by name. */
export interface DedupPipeline {
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * The narrow client type the deduplicator depends on: an ioredis `Redis` (one master) or `Cluster`
 * satisfies it. Scripts are registered with `defineCommand` under versioned names, so two library
 * versions sharing a server never run each other's code.
 */
export interface DedupRedis {
  readonly isCluster: boolean;
  readonly options?: { keyPrefix?: string | undefined };
  /** Cluster only: slot -> node keys serving it (master first). */
  readonly slots?: string[][];
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }): void;
  pipeline(): DedupPipeline;
  duplicate(): DedupSubscriber;
  set(key: string, value: string, px: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  pttl(key: string): Promise<number>;
  get(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
}

/** Prefix ioredis adds to every key (and not to channels); slot hashing must include it. */
export function keyPrefixOf(redis: DedupRedis): string {
  return redis.options?.keyPrefix ?? '';
}
