import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

/**
 * With forwarding on (`PEER_URL_TEMPLATE`), the `lock_token` a caller gets names the pod that granted
 * the lock ("<pod>~<token>"): only that process holds the lock's handle (and heartbeats it), so a
 * heartbeat or release that a load balancer sends to another pod of the region is forwarded there.
 * Pod names never contain '~'.
 */
const SEPARATOR = '~';

/**
 * A pod name is one DNS label (a StatefulSet pod's is `<name>-<ordinal>`). Anything else in a caller's
 * token is not a pod of ours and is never put into a peer URL.
 */
export const POD_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Header marking a forwarded request: it is answered where it lands, never forwarded again. */
export const FORWARDED_HEADER = 'x-cxkit-lock-forwarded-by';

/**
 * How long a forwarded heartbeat or release may take before the caller is told the lock is not held:
 * longer than the owner's own Redis command timeout (2 s by default), so an owner that waits on a slow
 * lock node still answers.
 */
const FORWARD_TIMEOUT_MS = 5_000;

/** Headers of the owner's answer passed on to the caller. */
const PASSED_ON = ['content-type', 'retry-after', 'www-authenticate'];

export interface LockOwnerRouting {
  /** This process's pod name. */
  self: string;
  /** Peer URL with `{pod}` in its host, e.g. `http://{pod}.contact-center:8080`; '' turns forwarding off. */
  peerUrlTemplate: string;
}

/** The token a caller gets: bare while forwarding is off (pods of an earlier version compare it whole). */
export function wireToken(routing: LockOwnerRouting, token: string): string {
  return routing.peerUrlTemplate === '' ? token : `${routing.self}${SEPARATOR}${token}`;
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

/**
 * Whether `pod` may be one of this pod's peers: a StatefulSet pod (`<name>-<ordinal>`) forwards only to
 * pods of its own set, so a token cannot make it call another Service that a name might resolve to.
 */
export function isPeer(self: string, pod: string): boolean {
  const set = /^(.*-)\d+$/.exec(self)?.[1];
  return set === undefined || (pod.startsWith(set) && /^\d+$/.test(pod.slice(set.length)));
}

/**
 * The owner's URL for `path`: the template's origin with `{pod}` filled in and the route's own path
 * (never the request's target, which may be an absolute URL naming another host).
 */
export function peerUrl(template: string, pod: string, path: string): URL {
  const base = new URL(template.replaceAll('{pod}', pod));
  const url = new URL(path, base.origin);
  if (url.origin !== base.origin) throw new TypeError(`${path} leaves ${base.origin}`);
  return url;
}

const unreachable = (pod: string, resource: string) =>
  new ProblemError(
    409,
    'LOCK_NOT_HELD',
    'Lock not held',
    `the pod that granted this lock (${pod}) cannot be reached; take the lock again`,
    { resource_id: resource },
  );

/**
 * Sends the request to the pod named in its `lock_token` when that is another pod of this set, and
 * answers with that pod's reply; resolves false when the request is this pod's to answer. A pod that
 * cannot be reached (or answers with a redirect) holds nothing it could extend or release for the
 * caller (a pod that shut down released its locks; a crashed one's go stale): 409 `LOCK_NOT_HELD`.
 */
export async function forwardToOwner(
  routing: LockOwnerRouting,
  request: FastifyRequest,
  reply: FastifyReply,
  body: { resource_id: string; lock_token: string },
): Promise<boolean> {
  const { pod } = parseWireToken(body.lock_token);
  if (pod === undefined || pod === routing.self || routing.peerUrlTemplate === '') return false;
  if (request.headers[FORWARDED_HEADER] !== undefined || !isPeer(routing.self, pod)) return false;
  const correlation = request.headers['x-correlation-id'];
  let status: number;
  let text: string;
  let headers: Headers;
  try {
    const res = await fetch(peerUrl(routing.peerUrlTemplate, pod, request.routeOptions.url ?? ''), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        ...(typeof correlation === 'string' ? { 'x-correlation-id': correlation } : {}),
        [FORWARDED_HEADER]: routing.self,
      },
      body: JSON.stringify(request.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    ({ status, headers } = res);
    text = await res.text();
  } catch {
    throw unreachable(pod, body.resource_id);
  }
  if (status >= 300 && status < 400) throw unreachable(pod, body.resource_id);
  reply.code(status);
  for (const name of PASSED_ON) {
    const value = headers.get(name);
    if (value !== null) reply.header(name, value);
  }
  await reply.send(text);
  return true;
}
