import { InvalidIdError } from './errors/index.js';

/** Builds record keys and the notification channel of one namespace. */
export class Keyspace {
  readonly channel: string;

  constructor(
    readonly namespace: string,
    readonly keyPrefix: string,
    private readonly maxIdBytes: number,
  ) {
    // ioredis prefixes keys but not channels: the channel carries the prefix itself so two prefixed
    // apps on one server do not wake each other's waiters.
    this.channel = `${keyPrefix}${namespace}:__events`;
  }

  /** Key as passed to the client (ioredis adds `keyPrefix` on the wire). */
  key(id: string): string {
    return `${this.namespace}:${id}`;
  }

  /** Key as the server sees it (what scripts publish and what hash slots are computed from). */
  wireKey(id: string): string {
    return `${this.keyPrefix}${this.namespace}:${id}`;
  }

  /** Throws `InvalidIdError` for a non-string, empty or over-long id; called before any write. */
  validate(id: unknown, index = 0): asserts id is string {
    if (typeof id !== 'string') throw new InvalidIdError('not-a-string', index, 0, this.maxIdBytes);
    if (id.length === 0) throw new InvalidIdError('empty', index, 0, this.maxIdBytes);
    // UTF-8 is at most 3 bytes per UTF-16 unit, so short ids skip the byte count.
    if (id.length * 3 > this.maxIdBytes) {
      const bytes = Buffer.byteLength(id, 'utf8');
      if (bytes > this.maxIdBytes) throw new InvalidIdError('too-long', index, bytes, this.maxIdBytes);
    }
  }
}
