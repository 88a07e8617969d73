import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

/**
 * The `lock_token` a caller gets names the pod that granted the lock ("<pod>~<token>"): only that
 * process holds the lock's handle (and heartbeats it), so a heartbeat or release that a load balancer
 * sends to another pod of the region is forwarded there. Pod names never contain '~'.
 */
const SEPARATOR = '~';

/**
 * A pod name is one DNS label (a StatefulSet pod's is `<name>-<ordinal>`). Anything else in a caller's
 * token is not a pod of ours: it is never put into a peer URL, so a crafted token cannot send the
 * caller's credentials to another host.
 */
export const POD_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Header marking a forwarded request: it is answered where it lands, never forwarded again. */
export const FORWARDED_HEADER = 'x-cxkit-lock-forwarded-by';

/** How long a forwarded heartbeat or release may take before the caller is told the lock is not held. */
const FORWARD_TIMEOUT_MS = 2_000;

export function wireToken(pod: string, token: string): string {
  return `${pod}${SEPARATOR}${token}`;
}

/**
 * The pod and the library token of a caller's `lock_token`; a token without a valid pod name (a bare
 * library token) has no pod and is looked up as it is.
 */
export function parseWireToken(wire: string): { pod: string | undefined; token: string } {
  const at = wire.indexOf(SEPARATOR);
  const pod = at < 0 ? '' : wire.slice(0, at);
  return POD_NAME.test(pod) ? { pod, token: wire.slice(at + 1) } : { pod: undefined, token: wire };
}

export interface LockOwnerRouting {
  /** This process's pod name. */
  self: string;
  /** Peer URL with `{pod}` for the pod name, e.g. `http://{pod}.contact-center:8080`; '' turns forwarding off. */
  peerUrlTemplate: string;
}

/**
 * Sends the request to the pod named in its `lock_token` when that is another pod, and answers with
 * that pod's reply; resolves false when the request is this pod's to answer. A pod that cannot be
 * reached holds nothing it could extend or release for the caller (a pod that shut down released its
 * locks; a crashed one's go stale): 409 `LOCK_NOT_HELD`.
 */
export async function forwardToOwner(
  routing: LockOwnerRouting,
  request: FastifyRequest,
  reply: FastifyReply,
  body: { resource_id: string; lock_token: string },
): Promise<boolean> {
  const { pod } = parseWireToken(body.lock_token);
  if (pod === undefined || pod === routing.self || routing.peerUrlTemplate === '') return false;
  if (request.headers[FORWARDED_HEADER] !== undefined) return false;
  const url = new URL(request.url, routing.peerUrlTemplate.replaceAll('{pod}', pod));
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        [FORWARDED_HEADER]: routing.self,
      },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
  } catch {
    throw new ProblemError(
      409,
      'LOCK_NOT_HELD',
      'Lock not held',
      `the pod that granted this lock (${pod}) cannot be reached; take the lock again`,
      { resource_id: body.resource_id },
    );
  }
  const text = await res.text();
  reply.code(res.status);
  for (const name of ['content-type', 'retry-after', 'www-authenticate']) {
    const value = res.headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  await reply.send(text);
  return true;
}
