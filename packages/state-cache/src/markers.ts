import type { KeySpace } from './keys.js';
import { isCluster } from './scripts.js';
import type { StateCacheRedis } from './types.js';

/** What Redis says about the namespace's completeness. */
export interface Markers {
  /** Generation of the last finished rebuild (or first start); undefined: never finished. */
  generation: string | undefined;
  /** Source offset the data reflects (rebuild progress). */
  offset: string | undefined;
  /** Partition count the generation was written with. */
  partitions: number | undefined;
  /** Bus sequence per partition (0: none). */
  seqs: number[];
  /** Every partition carries the namespace's generation: Redis holds the whole state. */
  complete: boolean;
}

type Row = (string | null)[];

/** Reads the namespace meta and every partition's meta in one round trip. */
export async function readMarkers(redis: StateCacheRedis, keys: KeySpace): Promise<Markers> {
  let rows: Row[];
  if (isCluster(redis)) {
    rows = await Promise.all([
      redis.hmget(keys.meta, 'gen', 'offset', 'partitions'),
      ...keys.partitions.map((k) => redis.hmget(k.meta, 'gen', 'seq')),
    ]);
  } else {
    const pipeline = redis.pipeline();
    pipeline.hmget(keys.meta, 'gen', 'offset', 'partitions');
    for (const k of keys.partitions) pipeline.hmget(k.meta, 'gen', 'seq');
    const results = (await pipeline.exec()) ?? [];
    rows = results.map(([err, row]) => {
      if (err) throw err;
      return row as Row;
    });
  }
  const [gen, offset, partitions] = rows[0]!;
  const parts = rows.slice(1);
  return {
    generation: gen ?? undefined,
    offset: offset ?? undefined,
    partitions: partitions == null ? undefined : Number(partitions),
    seqs: parts.map((r) => Number(r[1] ?? 0)),
    complete: gen != null && parts.every((r) => r[0] === gen),
  };
}

/**
 * Redis holds the namespace in another partition layout. Keys would then live in other partitions,
 * so serving or rebuilding in this instance's layout would split the state in two.
 */
export function otherLayout(markers: Markers, partitions: number): boolean {
  return markers.partitions !== undefined && markers.partitions !== partitions;
}
