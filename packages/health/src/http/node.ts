import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthMonitor } from '../monitor.js';
import { type HealthHttpOptions, healthResponse, resolveHttpOptions, suffixOf } from './respond.js';

export type HealthHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (err?: unknown) => void,
) => void;

/**
 * A plain `node:http` handler for `/health`, `/health/live`, `/health/ready`, `/health/startup`
 * (GET and HEAD). Anything else goes to `next` when given (connect style), else answers 404, so it
 * works both as `http.createServer(handler)` and inside another router.
 */
export function healthHandler(monitor: HealthMonitor, options?: HealthHttpOptions): HealthHandler {
  const o = resolveHttpOptions(options);
  return (req, res, next) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const suffix = suffixOf(pathname, o.path);
    const method = req.method ?? 'GET';
    const answer =
      suffix !== undefined && (method === 'GET' || method === 'HEAD')
        ? healthResponse(monitor, suffix, req.headers.accept, o)
        : undefined;
    if (!answer) {
      if (next) return next();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
    res.end(method === 'HEAD' ? undefined : answer.body);
  };
}
