import type { SourceRecord, StateSource } from '../types.js';

/**
 * Wraps records you already have (an array, a generator) as a source. It cannot seek, so a resumed
 * rebuild skips records up to the recorded offset, comparing offsets as decimal numbers when both are.
 */
export function iterableSource<T>(
  records: () => Iterable<SourceRecord<T>> | AsyncIterable<SourceRecord<T>>,
): StateSource<T> {
  return {
    async *read({ fromOffset, signal }) {
      const after = fromOffset !== undefined && /^\d+$/.test(fromOffset) ? BigInt(fromOffset) : undefined;
      for await (const record of records()) {
        signal.throwIfAborted();
        if (after !== undefined && /^\d+$/.test(record.offset) && BigInt(record.offset) <= after) continue;
        yield record;
      }
    },
  };
}
