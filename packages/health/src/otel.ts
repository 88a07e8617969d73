import type { Span, Tracer } from '@opentelemetry/api';

type Api = typeof import('@opentelemetry/api');

let loaded: Promise<{ api: Api; tracer: Tracer } | undefined> | undefined;

/**
 * `@opentelemetry/api` is an optional peer: loaded once, lazily; when it is absent every span is a
 * no-op (and without a registered SDK the API itself is a no-op).
 */
function otel(): Promise<{ api: Api; tracer: Tracer } | undefined> {
  const name = '@opentelemetry/api';
  loaded ??= (import(name) as Promise<Api>)
    .then((api) => ({ api, tracer: api.trace.getTracer('@cxkit/health') }))
    .catch(() => undefined);
  return loaded;
}

/** Runs `fn` inside an active span named `name`; `fn` gets a callback to set the final attributes. */
export async function traced<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (finish: (attrs: Record<string, string | number | boolean>, failed?: boolean) => void) => Promise<T>,
): Promise<T> {
  const o = await otel();
  if (!o) return fn(() => {});
  return o.tracer.startActiveSpan(name, { attributes }, async (span: Span) => {
    try {
      return await fn((attrs, failed) => {
        span.setAttributes(attrs);
        if (failed) span.setStatus({ code: o.api.SpanStatusCode.ERROR });
      });
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: o.api.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
