import type { Attributes, Tracer } from '@opentelemetry/api';

/** `undefined`: not loaded yet; `null`: `@opentelemetry/api` is not installed. */
let tracer: Tracer | null | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads `@opentelemetry/api` once, lazily, when the first store is built; without it every span is a
 * no-op. Calls made before the import settles are not traced.
 */
export function loadTracer(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (api) => {
      tracer = api.trace.getTracer('@cxkit/checkpoint');
    },
    () => {
      tracer = null;
    },
  );
  return loading;
}

const ERROR = 2; // SpanStatusCode.ERROR, without importing the enum at runtime

/** Runs `fn` inside an active span named `name` when OpenTelemetry is present. */
export function traced<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  const t = tracer;
  if (!t) return fn();
  return t.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}
