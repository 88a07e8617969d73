import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { ZodError } from 'zod';

/** RFC 9457 problem details, the one error shape every route answers with. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://cxkit.dev/problems/';

/** Throw from a handler to answer with `application/problem+json`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    /** Sent as `Retry-After` (whole seconds, at least 1) when the same request may succeed later. */
    readonly retryAfterMs?: number,
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }

  toProblem(instance?: string): Problem {
    return {
      type: `${TYPE_BASE}${this.code.toLowerCase().replaceAll('_', '-')}`,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      code: this.code,
      ...this.extensions,
    };
  }
}

/** 400 with one entry per offending field, e.g. `{ field: 'payload.agent_id', message: 'Required' }`. */
export function validationProblem(
  error: ZodError,
  where: 'body' | 'params' | 'headers' | 'query',
  at: readonly string[] = [],
): ProblemError {
  const errors = error.issues.map((issue) => ({
    field: [where, ...at, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return new ProblemError(400, 'VALIDATION_FAILED', 'Request validation failed', `invalid ${where}`, {
    errors,
  });
}

export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="cxkit"');
  if (problem.retryAfterMs !== undefined) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(problem.retryAfterMs / 1000))));
  }
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send(problem.toProblem(reply.request.url));
}

/** Fastify's own client errors (bad JSON, too large, wrong media type) mapped to problems. */
function fromFastifyError(error: FastifyError): ProblemError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError(413, 'PAYLOAD_TOO_LARGE', 'Request body too large', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProblemError(400, 'MALFORMED_BODY', 'Malformed request body', error.message);
  }
  if (error.statusCode === 429) {
    return new ProblemError(429, 'RATE_LIMITED', 'Too many requests', error.message);
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && error.code?.startsWith('FST_'))) {
    return new ProblemError(400, 'MALFORMED_BODY', 'Malformed request body', error.message);
  }
  return undefined;
}

/**
 * cxkit errors carry a stable `code` and an HTTP-ish `status` (409 conflict, 422 reuse, 503 quorum):
 * they are answered as they are, with the context fields the caller needs to act.
 */
function fromLibraryError(error: unknown): ProblemError | undefined {
  const e = error as { code?: unknown; status?: unknown; message?: string; retryAfterMs?: unknown };
  if (typeof e.code !== 'string' || typeof e.status !== 'number') return undefined;
  if (e.status < 400 || e.status > 599) return undefined;
  // Errors that may pass on their own (a key still in progress, a store briefly down) say when to retry.
  const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
  return new ProblemError(
    e.status,
    e.code,
    e.code.toLowerCase().replaceAll('_', ' '),
    e.message,
    {},
    retryAfterMs,
  );
}

/** Installs the problem+json error and not-found handlers on an app. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error);
    const mapped = fromFastifyError(error) ?? fromLibraryError(error);
    if (mapped) return sendProblem(reply, mapped);
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new ProblemError(500, 'INTERNAL', 'Internal error'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new ProblemError(404, 'NOT_FOUND', 'No such route', `${request.method} ${request.url}`),
    ),
  );
}
