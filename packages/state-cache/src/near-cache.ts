import { LRUCache } from 'lru-cache';

/** One near-cache entry; `value === undefined` caches a known absence. */
export interface NearEntry<T> {
  value: T | undefined;
  version: number;
  /** Partition trust epoch the entry was stored under; older epochs are only served as stale. */
  epoch: number;
}

/** See `watermark()`. */
export interface Watermark {
  version: number;
  deleted: boolean;
  floor: number;
}

/** Satisfies a watermark: not older than what was told, and not from before a known gap. */
export function satisfies(mark: Watermark, value: unknown, version: number, seq: number): boolean {
  if (seq < mark.floor) return false;
  return version >= mark.version || (mark.deleted && value === undefined && version < 0);
}

interface Told {
  version: number;
  seq: number;
  deleted: boolean;
}

/**
 * The in-process cache plus what the bus told it. Invariant: an entry older than an invalidation the
 * bus delivered is never stored or served; after a gap or reconnect a partition's entries are demoted
 * to "suspect" (served only as stale fallback while Redis cannot answer).
 */
export class NearCache<T> {
  readonly #lru: LRUCache<string, NearEntry<T>>;
  /** Newest version (and bus sequence) told per key; bounded, so evictions raise `#floor`. */
  readonly #told: LRUCache<string, Told>;
  readonly #epoch: number[];
  /** Per partition: reads older than this sequence may predate an invalidation we no longer remember. */
  readonly #floor: number[];
  /** False while no invalidation can arrive (bus down): an entry stored then could go stale unseen. */
  #trusting = true;

  constructor(
    options: { max: number; ttlMs: number; toldMax: number; partitions: number },
    private readonly partitionOf: (key: string) => number,
  ) {
    this.#lru = new LRUCache({ max: options.max, ttl: options.ttlMs, noDeleteOnStaleGet: true });
    this.#epoch = new Array<number>(options.partitions).fill(0);
    this.#floor = new Array<number>(options.partitions).fill(0);
    this.#told = new LRUCache({
      max: options.toldMax,
      dispose: (told, key, reason) => {
        // Only a forgotten key lowers what we know; an overwrite keeps the newer version.
        if (reason !== 'evict') return;
        const p = this.partitionOf(key);
        this.#floor[p] = Math.max(this.#floor[p]!, told.seq);
      },
    });
  }

  get size(): number {
    return this.#lru.size;
  }

  /** A trusted, unexpired entry, or undefined. */
  fresh(key: string): NearEntry<T> | undefined {
    if (!this.#trusting) return undefined;
    const entry = this.#lru.get(key);
    if (!entry || entry.epoch !== this.#epoch[this.partitionOf(key)]) return undefined;
    return entry;
  }

  /** Any entry, expired or suspect, for stale fallback reads. */
  any(key: string): NearEntry<T> | undefined {
    return this.#lru.peek(key, { allowStale: true });
  }

  /**
   * Stores what Redis returned at bus sequence `seq`. Refused (false) when the bus already told a newer
   * version for the key, when the read may predate a gap or a forgotten invalidation, or while distrusted.
   */
  offer(key: string, value: T | undefined, version: number, seq: number): boolean {
    if (!this.#trusting) return false;
    const p = this.partitionOf(key);
    const told = this.#told.peek(key);
    // An absence without tombstone (purged) is consistent with a told DELETE of any version, but only if
    // it was read after that DELETE: an absence read before the key's first write is merely old, and
    // cached it would hide the tombstone (and every later, lower version is ignored) until its TTL.
    const purgedDelete = told?.deleted === true && value === undefined && version < 0 && seq >= told.seq;
    if (seq < this.#floor[p]!) return false;
    if (told && told.version > version && !purgedDelete) return false;
    const existing = this.#lru.peek(key, { allowStale: true });
    if (existing && existing.epoch === this.#epoch[p] && existing.version > version) return true;
    this.#lru.set(key, { value, version, epoch: this.#epoch[p]! });
    return true;
  }

  /**
   * What this instance had been told about `key` when a read was issued. A Redis answer at least
   * this new may be returned to that read even if a later invalidation keeps it out of the cache.
   */
  watermark(key: string): Watermark {
    const told = this.#told.peek(key);
    return {
      version: told?.version ?? -1,
      deleted: told?.deleted ?? false,
      floor: this.#floor[this.partitionOf(key)]!,
    };
  }

  /** Applies one bus invalidation: `version` of `key` exists as of bus sequence `seq`. */
  invalidate(key: string, version: number, seq: number, deleted: boolean): void {
    const told = this.#told.peek(key);
    if (!told || told.version < version) this.#told.set(key, { version, seq, deleted });
    const entry = this.#lru.peek(key, { allowStale: true });
    if (entry && entry.version < version) this.#lru.delete(key);
  }

  /** Distrusts a partition after lost messages: its entries become suspect, reads before `seq` refused. */
  suspect(partition: number, seq: number): void {
    this.#epoch[partition]! += 1;
    this.#floor[partition] = Math.max(this.#floor[partition]!, seq);
  }

  suspectAll(seqs: number[] | undefined): void {
    for (let p = 0; p < this.#epoch.length; p++) this.suspect(p, seqs?.[p] ?? 0);
  }

  /** The bus is down: every entry becomes suspect, and nothing is stored or served as fresh until `trustFrom`. */
  distrust(): void {
    this.#trusting = false;
    this.suspectAll(undefined);
  }

  /** The bus delivers again and Redis's sequences are known: trusts reads made at or after `seqs`. */
  trustFrom(seqs: number[]): void {
    this.suspectAll(seqs);
    this.#trusting = true;
  }

  /** False after `distrust()` until the next `trustFrom()`. */
  get trusting(): boolean {
    return this.#trusting;
  }

  clear(): void {
    this.#lru.clear();
  }

  *keys(): Iterable<string> {
    yield* this.#lru.keys();
  }
}
