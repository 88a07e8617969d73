import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type Decision, decide, decodeBody, encodeBody, storableHeaders } from './http/exchange.js';
import { type HttpIdempotencyOptions, resolveHttpOptions } from './http/options.js';

export type FastifyIdempotencyOptions = HttpIdempotencyOptions<FastifyRequest>;

type Running = Extract<Decision, { kind: 'run' }>;

/**
 * Fastify plugin: requests with an `Idempotency-Key` run their route once per key (scoped by method,
 * route and optional tenant); repeats get the stored status, headers and body with
 * `Idempotent-Replayed: true`; 400/409/422 answers are `application/problem+json`.
 */
const plugin: FastifyPluginAsync<FastifyIdempotencyOptions> = async (app, opts) => {
  const options = resolveHttpOptions(opts);
  const running = new WeakMap<FastifyRequest, Running>();

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const decision = await decide(options, req, {
      method: req.method,
      route: req.routeOptions.url ?? req.url.split('?')[0] ?? '/',
      headerValue: req.headers[options.header],
      body: req.body,
    });
    switch (decision.kind) {
      case 'pass':
        return;
      case 'run':
        running.set(req, decision);
        return;
      case 'replay': {
        const { status, headers, body } = decision.response;
        return reply
          .code(status ?? 200)
          .headers(headers ?? {})
          .header('idempotent-replayed', 'true')
          .send(decodeBody(body));
      }
      case 'problem':
        return reply.code(decision.status).headers(decision.headers).send(decision.body);
    }
  });

  // Stores what the route answered before it leaves, so a crash after sending cannot lose it.
  app.addHook('onSend', async (req, reply, payload) => {
    const run = running.get(req);
    if (!run) return payload;
    running.delete(req);
    try {
      run.capture({
        status: reply.statusCode,
        headers: storableHeaders(reply.getHeaders()),
        body: encodeBody(payload),
      });
    } catch (err) {
      run.abandon(err as Error);
    }
    await run.stored.catch((err: unknown) => req.log.warn({ err }, 'idempotency: response not stored'));
    return payload;
  });

  // A response that finished without passing onSend (a hook failed) releases its key. A client that
  // disconnects does not: its route still runs and stores its answer for the retry (fastify reports a
  // bodiless request whose socket closes as aborted while the route is running).
  app.addHook('onResponse', async (req: FastifyRequest) => {
    const run = running.get(req);
    if (!run) return;
    running.delete(req);
    run.abandon(new Error('request ended without a response'));
  });
};

// Same effect as fastify-plugin: hooks apply to the routes of the registering scope.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@cxkit/idempotency',
});

export const idempotencyPlugin = plugin;
export { ConfigError, isConfigError } from './errors.js';
