import { createTracing, SPAN_STATUS_ERROR } from '@cxkit/internal';

type SpanAttributes = Record<string, string | number | boolean>;

const tracing = createTracing('@cxkit/health');

/**
 * Runs `fn` inside an active span named `name`; `fn` gets a callback to set the final attributes and
 * mark the span failed (an unhealthy outcome is not a throw). `@opentelemetry/api` is an optional peer:
 * the first call waits for the lazy import, and without it every span is a no-op.
 */
export async function traced<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (finish: (attrs: SpanAttributes, failed?: boolean) => void) => Promise<T>,
): Promise<T> {
  await tracing.load();
  return tracing.traced(name, attributes, (span) =>
    fn((attrs, failed) => {
      span?.setAttributes(attrs);
      if (failed) span?.setStatus({ code: SPAN_STATUS_ERROR });
    }),
  );
}
