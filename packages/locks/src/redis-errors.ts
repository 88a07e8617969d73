// What a node's error replies mean to the library.

/** The node has not loaded the script (restart, SCRIPT FLUSH): send its source instead. */
export const isNoScript = (err: unknown): boolean =>
  err instanceof Error && err.message.startsWith('NOSCRIPT');

/** What a Cluster node said instead of running the call (slot moved, migrating, or no quorum of masters). */
interface Redirect {
  kind: 'MOVED' | 'ASK' | 'TRYAGAIN' | 'CLUSTERDOWN';
  /** `host:port` of the node to ask (MOVED and ASK). */
  address: string | undefined;
}

export const redirectOf = (err: unknown): Redirect | undefined => {
  if (!(err instanceof Error)) return undefined;
  const m = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b(?: \d+ (\S+))?/.exec(err.message);
  return m ? { kind: m[1] as Redirect['kind'], address: m[2] } : undefined;
};
