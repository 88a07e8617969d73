import type * as otel from '@opentelemetry/api';

/** `SpanStatusCode.ERROR`, a stable value of the OpenTelemetry API, without importing the enum at runtime. */
export const SPAN_STATUS_ERROR = 2;

export interface Tracing {
  /**
   * Imports `@opentelemetry/api` once (later calls return the same promise, which never rejects).
   * Without the package nothing is traced; `traced()` calls made before the import settles are not traced.
   */
  load(): Promise<void>;
  /**
   * Whether a span would be recorded now: the API is loaded and its global tracer provider delegates
   * to a registered SDK (checked on each read, so a late registration counts). Without an SDK the
   * API's spans are no-ops that leave the caller's context as it is, so a hot path may skip `traced()`
   * (and building its arguments) with no visible difference.
   */
  readonly enabled: boolean;
  /** Runs `fn` in an active span when OpenTelemetry is loaded, recording a failure on the span; `fn` may add attributes. */
  traced<T>(name: string, attributes: otel.Attributes, fn: (span?: otel.Span) => Promise<T>): Promise<T>;
}

/** Lazy, optional OpenTelemetry tracing under the tracer `tracerName` (e.g. `@cxkit/locks`). */
export function createTracing(tracerName: string): Tracing {
  /** `undefined`: not loaded yet; `null`: `@opentelemetry/api` is not installed. */
  let tracer: otel.Tracer | null | undefined;
  let loading: Promise<void> | undefined;
  /** The global (proxy) tracer provider, as found at load time like `tracer`. */
  let provider: { getDelegate?(): unknown } | undefined;
  /** The API's no-op provider, what the proxy delegates to until an SDK registers. */
  let noopProvider: unknown;

  const isEnabled = (): boolean => provider !== undefined && provider.getDelegate?.() !== noopProvider;

  return {
    load() {
      loading ??= import('@opentelemetry/api').then(
        (m) => {
          // Through a CommonJS bundle the namespace may arrive as `default`.
          const api = ('trace' in m ? m : (m as unknown as { default: typeof otel }).default) as typeof otel;
          tracer = api.trace.getTracer(tracerName);
          provider = api.trace.getTracerProvider() as { getDelegate?(): unknown };
          // Without the proxy class (a future major) there is nothing to compare with: always enabled.
          noopProvider = api.ProxyTracerProvider ? new api.ProxyTracerProvider().getDelegate() : {};
        },
        () => {
          tracer = null;
        },
      );
      return loading;
    },

    get enabled() {
      return isEnabled();
    },

    traced(name, attributes, fn) {
      const t = tracer;
      // A no-op span costs an allocation and a context switch per call and records nothing.
      if (!t || !isEnabled()) return fn();
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
