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
    const pathname = pathOf(req.url ?? '/');
    const suffix = pathname === undefined ? undefined : suffixOf(pathname, o.path);
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

/**
 * The path of a request target: up to its query for the usual origin form, parsed for the absolute form
 * (`GET http://host/health`). Never throws: `new URL` rejects targets Node's parser accepts (`//`,
 * `http://a:99999/x`), and a throw in a plain `http.createServer` handler ends the process.
 */
function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) {
    const query = target.search(/[?#]/);
    return query < 0 ? target : target.slice(0, query);
  }
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}
