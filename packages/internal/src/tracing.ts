import type * as otel from '@opentelemetry/api';

/** `SpanStatusCode.ERROR`, a stable value of the OpenTelemetry API, without importing the enum at runtime. */
export const SPAN_STATUS_ERROR = 2;

export interface Tracing {
  /**
   * Imports `@opentelemetry/api` once (later calls return the same promise, which never rejects).
   * Without the package nothing is traced; `traced()` calls made before the import settles are not traced.
   */
  load(): Promise<void>;
  /** Runs `fn` in an active span when OpenTelemetry is loaded, recording a failure on the span; `fn` may add attributes. */
  traced<T>(name: string, attributes: otel.Attributes, fn: (span?: otel.Span) => Promise<T>): Promise<T>;
}

/** Lazy, optional OpenTelemetry tracing under the tracer `tracerName` (e.g. `@cxkit/locks`). */
export function createTracing(tracerName: string): Tracing {
  /** `undefined`: not loaded yet; `null`: `@opentelemetry/api` is not installed. */
  let tracer: otel.Tracer | null | undefined;
  let loading: Promise<void> | undefined;

  return {
    load() {
      loading ??= import('@opentelemetry/api').then(
        (m) => {
          // Through a CommonJS bundle the namespace may arrive as `default`.
          const api = ('trace' in m ? m : (m as unknown as { default: typeof otel }).default) as typeof otel;
          tracer = api.trace.getTracer(tracerName);
        },
        () => {
          tracer = null;
        },
      );
      return loading;
    },

    traced(name, attributes, fn) {
      const t = tracer;
      if (!t) return fn();
      return t.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SPAN_STATUS_ERROR, message: (err as Error | undefined)?.message });
          throw err;
        } finally {
          span.end();
        }
      });
    },
  };
}
