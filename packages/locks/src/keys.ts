/**
 * Key names. The resource sits inside a hash tag so that a lock's record, waiters flag and (in
 * Cluster mode) audit stream share one slot and can be touched by one script.
 */
export class Keys {
  constructor(
    private readonly prefix: string,
    private readonly cluster: boolean,
  ) {}

  lock(resource: string): string {
    return `${this.prefix}{${resource}}`;
  }

  /** Set while a contender waits for the lock; a release publishes only when it finds it. */
  waiters(resource: string): string {
    return `${this.prefix}{${resource}}:waiters`;
  }

  /** One stream per node; in a Cluster one per resource, since a script cannot write across slots. */
  audit(resource: string): string {
    return this.cluster ? `${this.prefix}{${resource}}:audit` : `${this.prefix}audit`;
  }

  /** Per-node marker (quorum and single mode); unused in a Cluster, where the guard is off. */
  epoch(resource: string): string {
    return this.cluster ? `${this.prefix}{${resource}}:marker` : `${this.prefix}marker`;
  }

  channel(resource: string): string {
    return `${this.prefix}released:${resource}`;
  }

  /** Semaphore `name`: holders zset, holder records hash, fence counter, audit stream (one slot). */
  semaphore(name: string): {
    holders: string;
    records: string;
    fence: string;
    audit: string;
    channel: string;
  } {
    const base = `${this.prefix}sem:{${name}}`;
    return {
      holders: `${base}:holders`,
      records: `${base}:records`,
      fence: `${base}:fence`,
      audit: `${base}:audit`,
      channel: `${this.prefix}sem-released:${name}`,
    };
  }
}
