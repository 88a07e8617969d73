import type * as otel from '@opentelemetry/api';

// `@opentelemetry/api` is an optional peer: loaded once, lazily; without it every span is skipped.
let api: typeof otel | null | undefined;
/** `SpanStatusCode.ERROR` (a stable value of the OpenTelemetry API). */
const SPAN_STATUS_ERROR = 2;

/** Starts loading `@opentelemetry/api` if it is installed (never throws). */
export function loadTracing(): void {
  if (api !== undefined) return;
  api = null;
  import('@opentelemetry/api').then(
    (m) => {
      api = ('trace' in m ? m : (m as unknown as { default: typeof otel }).default) as typeof otel;
    },
    () => {},
  );
}

/** Runs `fn` inside a span named `name` when OpenTelemetry is present; records failures on the span. */
export function traced<T>(
  name: string,
  attributes: otel.Attributes,
  fn: (span?: otel.Span) => Promise<T>,
): Promise<T> {
  if (!api) return fn();
  return api.trace.getTracer('@cxkit/locks').startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SPAN_STATUS_ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
