import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { decide, decodeBody, encodeBody, storableHeaders } from './http/exchange.js';
import { type HttpIdempotencyOptions, resolveHttpOptions } from './http/options.js';

export type ExpressIdempotencyOptions = HttpIdempotencyOptions<Request>;

type Chunk = string | Buffer | Uint8Array;

const toBuffer = (chunk: Chunk, encoding?: BufferEncoding) =>
  typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk);

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Express middleware: requests with an `Idempotency-Key` run their route once per key (scoped by
 * method, route and optional tenant); repeats get the stored status, headers and body with
 * `Idempotent-Replayed: true`; 400/409/422 answers are `application/problem+json`. Mount it per route
 * (`app.post('/x', idempotency(opts), handler)`) to scope by the route pattern, or app-wide to scope
 * by path. The route's response is buffered and stored before it is sent. Mount a body parser
 * (`express.json()`) before it: a request whose body was not parsed is answered 500.
 */
export function idempotency(opts: ExpressIdempotencyOptions): RequestHandler {
  const options = resolveHttpOptions(opts);
  return (req: Request, res: Response, next: NextFunction) => {
    const route =
      req.route?.path && typeof req.route.path === 'string'
        ? `${req.baseUrl}${req.route.path}`
        : `${req.baseUrl}${req.path}`;
    decide(options, req, {
      method: req.method,
      route,
      headerValue: req.headers[options.header],
      body: req.body,
      // A body on the wire that no parser turned into req.body (one mounted after this middleware, or none).
      unparsed: req.body === undefined && hasBody(req),
    })
      .then((decision) => {
        switch (decision.kind) {
          case 'pass':
            return next();
          case 'problem':
            res.status(decision.status).set(decision.headers).end(decision.body);
            return;
          case 'replay': {
            const { status, headers, body } = decision.response;
            res
              .status(status ?? 200)
              .set(headers ?? {})
              .set('idempotent-replayed', 'true')
              .end(decodeBody(body));
            return;
          }
          case 'run':
            break;
        }
        const chunks: Buffer[] = [];
        const write = res.write.bind(res);
        const end = res.end.bind(res);
        let ended = false;
        res.write = ((chunk: Chunk, encoding?: BufferEncoding | (() => void), cb?: () => void) => {
          if (chunk !== undefined && chunk !== null)
            chunks.push(toBuffer(chunk, typeof encoding === 'string' ? encoding : undefined));
          const done = typeof encoding === 'function' ? encoding : cb;
          done?.();
          return true;
        }) as Response['write'];
        res.end = ((
          chunk?: Chunk | (() => void),
          encoding?: BufferEncoding | (() => void),
          cb?: () => void,
        ) => {
          if (ended) return res;
          ended = true;
          const callback = [chunk, encoding, cb].find((x) => typeof x === 'function') as
            | (() => void)
            | undefined;
          if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
            chunks.push(toBuffer(chunk, typeof encoding === 'string' ? encoding : undefined));
          }
          res.write = write;
          res.end = end;
          const body = Buffer.concat(chunks);
          const isText = /^text\/|json|xml|javascript/i.test(String(res.getHeader('content-type') ?? ''));
          // Text is stored as text only when it is UTF-8 (a windows-1252 body would not replay byte for byte).
          const text = isText ? body.toString('utf8') : undefined;
          decision.capture({
            status: res.statusCode,
            headers: storableHeaders(res.getHeaders()),
            body: encodeBody(text !== undefined && Buffer.from(text, 'utf8').equals(body) ? text : body),
          });
          decision.stored
            .catch((err: unknown) =>
              (req as { log?: { warn(o: object, m: string): void } }).log?.warn(
                { err },
                'idempotency: response not stored',
              ),
            )
            .finally(() => end(body, callback));
          return res;
        }) as Response['end'];
        // No abandon on 'close': a client that gives up (a sender's timeout) leaves the route running,
        // and releasing the key would let its retry run the route again alongside. The route's own end
        // still stores the response; the lease covers a route that never ends.
        next();
      })
      .catch(next);
  };
}

export { ConfigError, isConfigError } from './errors.js';
