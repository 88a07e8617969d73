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
