// Type-only: the caller registers the provider with its own `@opentelemetry/api`, as an app does an SDK.
import type { Span, Tracer, TracerProvider } from '@opentelemetry/api';

/** One span as a package reported it. */
export interface RecordedSpan {
  tracer: string;
  name: string;
  attributes: Record<string, unknown>;
  ended: boolean;
  exception?: unknown;
  status?: { code: number; message?: string };
}

/**
 * A tracer provider that records every span started through `startActiveSpan` (the call the packages
 * use), for `trace.setGlobalTracerProvider(provider)`: enough to see what a package reports without an
 * OpenTelemetry SDK among the dependencies.
 */
export function recordingTracerProvider(): { provider: TracerProvider; recorded: RecordedSpan[] } {
  const recorded: RecordedSpan[] = [];
  const provider = {
    getTracer: (tracerName: string) =>
      ({
        startActiveSpan(
          name: string,
          options: { attributes?: Record<string, unknown> },
          fn: (span: Span) => unknown,
        ) {
          const record: RecordedSpan = {
            tracer: tracerName,
            name,
            attributes: { ...options.attributes },
            ended: false,
          };
          recorded.push(record);
          const span = {
            setAttribute(key: string, value: unknown) {
              record.attributes[key] = value;
              return span;
            },
            setAttributes(attributes: Record<string, unknown>) {
              Object.assign(record.attributes, attributes);
              return span;
            },
            recordException(err: unknown) {
              record.exception = err;
            },
            setStatus(status: { code: number; message?: string }) {
              record.status = status;
              return span;
            },
            end() {
              record.ended = true;
            },
          };
          return fn(span as unknown as Span);
        },
      }) as unknown as Tracer,
  } as TracerProvider;
  return { provider, recorded };
}
