import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deduplicator, type ProcessResult } from '../src/index.js';
import { type Env, shuffled, startEnv } from './helpers.js';

const MESSAGES = 20_000;
const CONSUMERS = 8;
const IN_FLIGHT = 64;

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(() => env?.stop());

/** Runs `fn` over `items` with at most `limit` calls in flight (a consumer's worker pool). */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe('cross-cluster fan-out: 8 pods receive every message', () => {
  it('each of 20,000 messages is handled exactly once; every other delivery is a duplicate', async () => {
    const ids = Array.from({ length: MESSAGES }, (_, i) => `ui-event-${i}`);
    const runs = new Uint16Array(MESSAGES);
    const processed = new Uint16Array(MESSAGES);
    const duplicates = new Uint16Array(MESSAGES);
    const pods = Array.from(
      { length: CONSUMERS },
      (_, p) =>
        new Deduplicator({
          redis: env.client({ autoPipelining: true }),
          namespace: 'fanout',
          owner: `pod-${p}`,
        }),
    );
    const winners = new Array<string>(MESSAGES);
    const losersSaw = new Array<Set<string>>(MESSAGES);

    await Promise.all(
      pods.map((pod, p) =>
        pool(shuffled(ids, p + 1), IN_FLIGHT, async (id) => {
          const n = Number(id.slice('ui-event-'.length));
          const outcome: ProcessResult<string> = await pod.process(id, () => {
            runs[n]!++;
            return pod.owner;
          });
          if (outcome.status === 'processed') {
            processed[n]!++;
            winners[n] = pod.owner;
          } else {
            duplicates[n]!++;
            losersSaw[n] ??= new Set();
            losersSaw[n].add(outcome.owner);
          }
        }),
      ),
    );

    expect(runs.every((r) => r === 1)).toBe(true);
    expect(processed.every((r) => r === 1)).toBe(true);
    expect(duplicates.every((d) => d === CONSUMERS - 1)).toBe(true);
    // Losers were told who won, never someone else.
    expect(losersSaw.every((owners, n) => owners.size === 1 && owners.has(winners[n]!))).toBe(true);
    const totals = pods
      .map((p) => p.stats())
      .reduce(
        (a, s) => ({
          claimed: a.claimed + s.claimed,
          done: a.done + s.done,
          dup: a.dup + s.duplicatesInProgress + s.duplicatesDone,
        }),
        { claimed: 0, done: 0, dup: 0 },
      );
    expect(totals).toEqual({ claimed: MESSAGES, done: MESSAGES, dup: MESSAGES * (CONSUMERS - 1) });
    await Promise.all(pods.map((p) => p.close()));
  }, 90_000);
});
