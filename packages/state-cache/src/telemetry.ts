import type { Attributes, Span, Tracer } from '@opentelemetry/api';

/** `undefined`: not loaded yet; `null`: `@opentelemetry/api` is not installed (spans are no-ops). */
let tracer: Tracer | null | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads `@opentelemetry/api` once, lazily, when the first cache is built. It is an optional peer
 * dependency: without it nothing is traced, and calls made before the import settles are not traced.
 */
export function loadTracer(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (api) => {
      tracer = api.trace.getTracer('@cxkit/state-cache');
    },
    () => {
      tracer = null;
    },
  );
  return loading;
}

const ERROR = 2; // SpanStatusCode.ERROR, without importing the enum at runtime

/** Runs `fn` in an active span when OpenTelemetry is present; `fn` may add attributes to it. */
export function traced<T>(name: string, attributes: Attributes, fn: (span?: Span) => Promise<T>): Promise<T> {
  const t = tracer;
  if (!t) return fn();
  return t.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}
