import { createTracing } from '@cxkit/internal';

/** Spans of every StateCache under the tracer `@cxkit/state-cache`; loaded by the first cache built. */
export const tracing = createTracing('@cxkit/state-cache');
