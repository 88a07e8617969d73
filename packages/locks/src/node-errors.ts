// How a node call failed, as the rounds and their outcomes tell failures apart.

/** A node did not answer within `requestTimeoutMs` (it may still run the call later). */
export class NodeTimeoutError extends Error {
  override readonly name = 'NodeTimeoutError';
}

/** `WAIT` was answered with an error: the server (or a proxy in front of it) does not support it. */
export class WaitUnsupportedError extends Error {
  override readonly name = 'WaitUnsupportedError';
}

/** Fewer replicas than `replicaAcks` acknowledged the write in time. */
export class ReplicaAcksError extends Error {
  override readonly name = 'ReplicaAcksError';
  constructor(
    readonly acked: number,
    readonly wanted: number,
    message = `${acked} of ${wanted} replica acknowledgements`,
  ) {
    super(message);
  }
}
