import { describe, expect, it } from 'vitest';
import { Deduplicator } from '../src/index.js';
import { type Env, shuffled, suiteEnv } from './helpers.js';

const CONSUMERS = 8;

let env: Env;
suiteEnv((e) => {
  env = e;
});

/** Runs `fn` over `items` with at most `limit` calls in flight (a consumer's worker pool). */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Eight pods, each on its own ioredis connection, as in the seed's cross-cluster fan-out. */
function pods(namespace: string): Deduplicator[] {
  return Array.from(
    { length: CONSUMERS },
    (_, p) => new Deduplicator({ redis: env.client({ autoPipelining: true }), namespace, owner: `pod-${p}` }),
  );
}

/** Per-message tallies; `owners[n]` collects the owner each loser was told about. */
function tally(count: number) {
  return {
    runs: new Uint16Array(count),
    wins: new Uint16Array(count),
    losses: new Uint16Array(count),
    winner: new Array<string>(count),
    toldOwner: Array.from({ length: count }, () => new Set<string>()),
  };
}

function expectExactlyOnce(t: ReturnType<typeof tally>): void {
  expect(t.runs.every((r) => r === 1)).toBe(true);
  expect(t.wins.every((w) => w === 1)).toBe(true);
  expect(t.losses.every((l) => l === CONSUMERS - 1)).toBe(true);
  // Every loser was told who won, never someone else.
  expect(t.toldOwner.every((owners, n) => owners.size === 1 && owners.has(t.winner[n]!))).toBe(true);
}

describe('cross-cluster fan-out: 8 pods receive every message', () => {
  it('20,000 messages in batches (claimMany), each pod in its own order: one handler run each, 7 duplicates', async () => {
    const MESSAGES = 20_000;
    const BATCH = 250;
    const ids = Array.from({ length: MESSAGES }, (_, i) => `ui-event-${i}`);
    const t = tally(MESSAGES);
    const consumers = pods('fanout-batch');
    await Promise.all(
      consumers.map(async (pod, p) => {
        const order = shuffled(ids, p + 1);
        const batches = Array.from({ length: MESSAGES / BATCH }, (_, b) =>
          order.slice(b * BATCH, (b + 1) * BATCH),
        );
        await pool(batches, 4, async (batch) => {
          const outcomes = await pod.claimMany(batch);
          await Promise.all(
            outcomes.map(async (o) => {
              const n = Number(o.id.slice('ui-event-'.length));
              if (o.outcome === 'claimed') {
                t.runs[n]!++;
                t.wins[n]!++;
                t.winner[n] = pod.owner;
                await o.lease.complete(pod.owner);
              } else {
                t.losses[n]!++;
                t.toldOwner[n]!.add(o.owner);
              }
            }),
          );
        });
      }),
    );
    expectExactlyOnce(t);
    const claimed = consumers.reduce((sum, c) => sum + c.stats().claimed, 0);
    const done = consumers.reduce((sum, c) => sum + c.stats().done, 0);
    expect([claimed, done]).toEqual([MESSAGES, MESSAGES]);
    await Promise.all(consumers.map((c) => c.close()));
  }, 90_000);

  it('process() per message (64 in flight per pod): the handler runs once, every loser gets duplicate', async () => {
    const MESSAGES = 2_500;
    const ids = Array.from({ length: MESSAGES }, (_, i) => `ui-event-${i}`);
    const t = tally(MESSAGES);
    const consumers = pods('fanout-process');
    await Promise.all(
      consumers.map((pod, p) =>
        pool(shuffled(ids, 100 + p), 64, async (id) => {
          const n = Number(id.slice('ui-event-'.length));
          const outcome = await pod.process(id, () => {
            t.runs[n]!++;
            return pod.owner;
          });
          if (outcome.status === 'processed') {
            t.wins[n]!++;
            t.winner[n] = pod.owner;
          } else {
            t.losses[n]!++;
            t.toldOwner[n]!.add(outcome.owner);
          }
        }),
      ),
    );
    expectExactlyOnce(t);
    await Promise.all(consumers.map((c) => c.close()));
  }, 90_000);
});
