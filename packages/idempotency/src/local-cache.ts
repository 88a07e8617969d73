import { LRUCache } from 'lru-cache';
import { sameJson } from './json-equal.js';
import { deserializeResponse, type IdempotentResponse, type SerializedResponse } from './response.js';

/** A completed, validated record as the LRU front keeps it. */
export interface CachedRecord {
  /** Canonical JSON of the request that produced the record. */
  canonical: string;
  /** That request parsed back from `canonical` (on the first hit): hits compare against it. */
  request: unknown;
  /** The frozen response every hit hands out; built on the first hit for a record cached as texts. */
  response: IdempotentResponse | undefined;
  /** The stored texts of this process's own completion, until a hit parses them. */
  texts: Pick<SerializedResponse, 'status' | 'headers' | 'body'> | undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

type RequestTexts = { canonical: string };

/**
 * A record for a response read from Postgres, frozen now: the caller gets the same object and every
 * hit hands it out again, so nobody may mutate it.
 */
export function frozenRecord(input: RequestTexts, response: IdempotentResponse): CachedRecord {
  return { canonical: input.canonical, request: undefined, response: deepFreeze(response), texts: undefined };
}

/** A record for this call's own completion: kept as the stored texts, parsed only if a hit comes. */
export function textRecord(input: RequestTexts, texts: SerializedResponse): CachedRecord {
  return { canonical: input.canonical, request: undefined, response: undefined, texts };
}

/**
 * Whether `request` is the request the record was stored for: compared value by value with the
 * canonical request parsed once per record, so a hit builds no text and hashes nothing.
 */
export function sameRequest(record: CachedRecord, request: unknown): boolean {
  if (record.request === undefined) record.request = JSON.parse(record.canonical);
  return sameJson(request === undefined ? null : request, record.request);
}

/** The record's frozen response (parsing its texts on the first hit). */
export function cachedResponse(record: CachedRecord): IdempotentResponse {
  if (record.response === undefined) {
    const t = record.texts as SerializedResponse;
    record.response = deepFreeze(deserializeResponse(t.status, t.headers, t.body));
    record.texts = undefined;
  }
  return record.response;
}

/**
 * In-process LRU front: only completed records, bounded by count and bytes, each entry living at most
 * `ttlMs` and never past the row's own expiry (the remaining lifetime Postgres reported).
 */
export class LocalCache {
  readonly #lru: LRUCache<string, CachedRecord> | undefined;

  constructor(options: { max: number; ttlMs: number; maxBytes: number } | false) {
    if (options === false || options.max === 0) return;
    this.#lru = new LRUCache<string, CachedRecord>({
      max: options.max,
      maxSize: options.maxBytes,
      ttl: options.ttlMs,
      // Expired entries are dropped when read; no timer keeps the process alive.
      ttlAutopurge: false,
      updateAgeOnGet: false,
    });
    this.ttlMs = options.ttlMs;
  }

  readonly ttlMs: number = 0;

  /** False when the front is disabled: callers skip building records nobody will read. */
  get enabled(): boolean {
    return this.#lru !== undefined;
  }

  get(key: string): CachedRecord | undefined {
    return this.#lru?.get(key);
  }

  /** Caches `record` for min(ttlMs, rowTtlMs); `bytes` is the stored response size. */
  set(key: string, record: CachedRecord, rowTtlMs: number, bytes: number): void {
    if (!this.#lru) return;
    const ttl = Math.floor(Math.min(this.ttlMs, rowTtlMs));
    if (ttl <= 0) return;
    this.#lru.set(key, record, { ttl, size: Math.max(1, bytes + key.length) });
  }

  delete(key: string): void {
    this.#lru?.delete(key);
  }

  clear(): void {
    this.#lru?.clear();
  }

  get size(): number {
    return this.#lru?.size ?? 0;
  }
}
