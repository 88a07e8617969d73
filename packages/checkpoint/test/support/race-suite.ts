import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type BaseCheckpointStore, isRevisionConflictError, isStaleFenceError } from '../../src/index.js';
import type { Harness } from './harness.js';
import { seedVariables, v3 } from './schemas.js';

const base = { region: 'us-east-1', flowVersion: '12' };
type Store = BaseCheckpointStore<unknown, NonNullable<(typeof v3)['__input']>>;

/** Saves once with compare-and-set, re-reading and retrying on conflict (bounded). */
async function saveWithRetry(store: Store, id: string, checkpointId: string, retryCount: number) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const expectedRevision = (await store.latest(id)).revision;
    try {
      const variables = { ...seedVariables, retry_count: retryCount };
      return await store.save(id, { ...base, checkpointId, variables, expectedRevision });
    } catch (err) {
      if (!isRevisionConflictError(err)) throw err;
    }
  }
  throw new Error('no progress after 500 attempts');
}

export function raceSuite(name: string, harness: () => Harness): void {
  describe(`concurrent writers: ${name}`, () => {
    it('50 concurrent saves on one expectedRevision: exactly one wins, 49 conflicts', async () => {
      const store = harness().store(v3);
      const id = `race_${randomUUID()}`;
      await store.save(id, { ...base, variables: seedVariables });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          store.save(id, {
            ...base,
            checkpointId: `chk_${i}`,
            variables: seedVariables,
            expectedRevision: 1,
          }),
        ),
      );
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(won).toHaveLength(1);
      expect(won[0]!.revision).toBe(2);
      expect(lost).toHaveLength(49);
      expect(lost.every((e) => isRevisionConflictError(e) && e.actualRevision >= 2)).toBe(true);
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && latest.checkpoint.checkpointId).toBe(won[0]!.checkpointId);
      expect(latest.status === 'restored' && latest.checkpoint.revision).toBe(2);
    });

    it('two writers racing 50 saves with retries: one winner per revision, no lost history entry', async () => {
      const store = harness().store(v3, { history: 60 });
      const other = harness().otherStore(v3, { history: 60 });
      const id = `race_${randomUUID()}`;
      const writer = async (who: string, on: Store) => {
        const mine = [];
        for (let i = 0; i < 25; i++) mine.push(await saveWithRetry(on, id, `${who}_${i}`, i));
        return mine;
      };
      const [a, b] = await Promise.all([writer('A', store), writer('B', other)]);
      const all = [...a, ...b];
      const revisions = all.map((r) => r.revision).sort((x, y) => x - y);
      expect(revisions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const history = await store.history(id, { limit: 100 });
      expect(history).toHaveLength(50);
      const byRevision = new Map(
        history.map((h) => [h.status === 'restored' ? h.checkpoint.revision : -1, h] as const),
      );
      for (const saved of all) {
        const entry = byRevision.get(saved.revision);
        expect(entry?.status === 'restored' && entry.checkpoint.checkpointId).toBe(saved.checkpointId);
      }
    });

    it('a writer holding an older fence is rejected once a newer one wrote, even when it retries', async () => {
      const store = harness().store(v3, { history: 100 });
      const other = harness().otherStore(v3, { history: 100 });
      const id = `fence_${randomUUID()}`;
      const run = async (on: Store, fence: number, count: number) => {
        const outcomes: { revision?: number; stale?: boolean }[] = [];
        for (let i = 0; i < count; i++) {
          try {
            const r = await on.save(id, { ...base, variables: seedVariables, fence });
            outcomes.push({ revision: r.revision });
          } catch (err) {
            if (!isStaleFenceError(err)) throw err;
            outcomes.push({ stale: true });
          }
        }
        return outcomes;
      };
      const [old, fresh] = await Promise.all([run(store, 1, 20), run(other, 2, 20)]);
      expect(fresh.every((o) => o.revision !== undefined)).toBe(true);
      const firstFresh = Math.min(...fresh.map((o) => o.revision!));
      const oldWins = old.flatMap((o) => (o.revision === undefined ? [] : [o.revision]));
      expect(oldWins.every((r) => r < firstFresh)).toBe(true);
      // Retrying with the current revision does not help the stale holder.
      const latest = await store.latest(id);
      const expectedRevision = latest.status === 'restored' ? latest.checkpoint.revision : -1;
      for (let i = 0; i < 3; i++) {
        const err = await store
          .save(id, { ...base, variables: seedVariables, fence: 1, expectedRevision })
          .catch((e) => e);
        expect(isStaleFenceError(err)).toBe(true);
      }
      const after = await store.latest(id);
      expect(after.status === 'restored' && after.checkpoint.revision).toBe(expectedRevision);
      expect(after.status === 'restored' && after.checkpoint.fence).toBe(2);
    });
  });
}
