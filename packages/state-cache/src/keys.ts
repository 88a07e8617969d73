/**
 * Redis key layout for one namespace. Each partition shares a hash tag, so its four keys live in one
 * Cluster slot and one Lua call can update them atomically; the namespace-wide meta and lease share another.
 */
export interface PartitionKeys {
  /** HASH key -> `<version>|<json>` */
  data: string;
  /** HASH key -> tombstone version */
  tombstones: string;
  /** ZSET key scored by tombstone expiry (server ms) */
  expiries: string;
  /** HASH `seq` (bus sequence), `gen` (generation marker) */
  meta: string;
}

export class KeySpace {
  readonly meta: string;
  readonly lease: string;
  readonly channel: string;
  readonly partitions: PartitionKeys[];

  constructor(
    readonly namespace: string,
    readonly partitionCount: number,
  ) {
    const root = `cxsc:{${namespace}}`;
    this.meta = `${root}:meta`;
    this.lease = `${root}:lease`;
    this.channel = `cxsc:${namespace}:bus`;
    this.partitions = Array.from({ length: partitionCount }, (_, p) => {
      const tag = `cxsc:{${namespace}:${p}}`;
      return { data: `${tag}:d`, tombstones: `${tag}:t`, expiries: `${tag}:x`, meta: `${tag}:m` };
    });
  }

  /** Partition of a key: FNV-1a over UTF-16 code units, stable across processes and versions. */
  partitionOf(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    return (h >>> 0) % this.partitionCount;
  }

  keysOf(partition: number): PartitionKeys {
    return this.partitions[partition]!;
  }
}

/** Splits a stored `<version>|<json>` string. */
export function decodeStored(raw: string): { version: number; json: string } {
  const bar = raw.indexOf('|');
  return { version: Number(raw.slice(0, bar)), json: raw.slice(bar + 1) };
}
