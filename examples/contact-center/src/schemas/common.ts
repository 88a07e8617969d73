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

/**
 * The time an agent-state change took effect: it becomes the state's version (ms since 1970), which the
 * state cache requires to be non-negative; an earlier date is refused here, before the outbox write.
 */
export const stateChangeTime = isoDateTime.refine((s) => Date.parse(s) >= 0, {
  message: 'must not be before 1970-01-01T00:00:00Z',
});
