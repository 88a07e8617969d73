/**
 * Key names. The resource sits inside a hash tag so that a lock's record, fence counter and (in
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

  fence(resource: string): string {
    return `${this.prefix}{${resource}}:fence`;
  }

  /** One stream per node; in a Cluster one per resource, since a script cannot write across slots. */
  audit(resource: string): string {
    return this.cluster ? `${this.prefix}{${resource}}:audit` : `${this.prefix}audit`;
  }

  /** Per-node marker (quorum and single mode); unused in a Cluster, where the guard is off. */
  epoch(resource: string): string {
    return this.cluster ? `${this.prefix}{${resource}}:epoch` : `${this.prefix}epoch`;
  }

  channel(resource: string): string {
    return `${this.prefix}released:${resource}`;
  }

  /** Resource name back from a release channel name. */
  resourceOf(channel: string): string | undefined {
    const head = `${this.prefix}released:`;
    return channel.startsWith(head) ? channel.slice(head.length) : undefined;
  }
}
