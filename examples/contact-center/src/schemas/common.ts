import { z } from 'zod';

/** Identifiers the platforms hand us: letters, digits and `_ : . -`, bounded. */
export const identifier = (max = 128) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_:.-]+$/, 'only letters, digits and _ : . - are allowed');

export const sessionId = identifier(128);
export const isoDateTime = z.iso.datetime({ offset: true });

/** How far ahead of this server's clock a state change may be dated (platform clock skew). */
export const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;

/**
 * The time an agent-state change took effect: it becomes the state's version (ms since 1970), which the
 * state cache requires to be non-negative; an earlier date is refused here, before the outbox write. So
 * is a date far ahead: its version would make every real change of that agent "older" and ignored.
 */
export const stateChangeTime = isoDateTime
  .refine((s) => Date.parse(s) >= 0, { message: 'must not be before 1970-01-01T00:00:00Z' })
  .refine((s) => Date.parse(s) <= Date.now() + MAX_FUTURE_SKEW_MS, {
    message: 'must not be more than 24 h ahead of the server clock',
  });
