// What a node's error replies mean to the library.

/** The node has not loaded the script (restart, SCRIPT FLUSH): send its source instead. */
export const isNoScript = (err: unknown): boolean =>
  err instanceof Error && err.message.startsWith('NOSCRIPT');

/**
 * Errors with which a node refuses a call before anything is written: out of memory, a replica, failed
 * persistence, too few replicas, busy, loading, a Cluster redirection, an unknown script, no permission
 * (a script is refused at its first write, so all or none of its writes run), or a record in another
 * layout, which the scripts leave alone.
 */
const REFUSALS =
  /^(OOM|READONLY|MISCONF|NOREPLICAS|BUSY|LOADING|MASTERDOWN|CLUSTERDOWN|MOVED|ASK|TRYAGAIN|NOSCRIPT|NOPERM|CXKIT_LAYOUT)\b/;

/** Whether `err` proves that the call wrote nothing (see `REFUSALS`); any other failure may have written. */
export const refusedWrite = (err: unknown): boolean => err instanceof Error && REFUSALS.test(err.message);

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
