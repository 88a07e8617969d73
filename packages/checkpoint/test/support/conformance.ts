import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@cxkit/testkit';
import { describe, expect, it } from 'vitest';
import {
  isRevisionConflictError,
  isStaleFenceError,
  RevisionConflictError,
  StaleFenceError,
} from '../../src/index.js';
import { badInputSuite } from './bad-input-suite.js';
import type { Harness } from './harness.js';
import { raceSuite } from './race-suite.js';
import { schemaSuite } from './schema-suite.js';
import { seedVariables, v3 } from './schemas.js';

const sid = () => `session_${randomUUID()}`;
const base = { region: 'eu-west-1', flowVersion: '12' };

/** One contract, run against every backend and topology. */
export function conformance(name: string, harness: () => Harness): void {
  raceSuite(name, harness);
  badInputSuite(name, harness);
  schemaSuite(name, harness);
  describe(`conformance: ${name}`, () => {
    it('round-trips a checkpoint with a per-session revision and server time', async () => {
      const store = harness().store(v3);
      const id = sid();
      const before = Date.now();
      const first = await store.save(id, {
        ...base,
        checkpointId: 'chk_1715788320',
        variables: seedVariables,
      });
      expect(first.revision).toBe(1);
      expect(first.checkpointId).toBe('chk_1715788320');
      expect(Math.abs(first.savedAt.getTime() - before)).toBeLessThan(60_000);
      const second = await store.save(id, { ...base, variables: { ...seedVariables, retry_count: 1 } });
      expect(second.revision).toBe(2);
      expect(second.checkpointId).toMatch(/^chk_[0-9a-f-]{36}$/);
      const latest = await store.latest(id);
      expect(latest.status).toBe('restored');
      if (latest.status !== 'restored') return;
      expect(latest.checkpoint).toMatchObject({
        sessionId: id,
        revision: 2,
        checkpointId: second.checkpointId,
        region: 'eu-west-1',
        flowVersion: '12',
        schemaVersion: 3,
      });
      expect(latest.checkpoint.savedAt.getTime()).toBe(second.savedAt.getTime());
      const { last_menu_selection: _, ...persisted } = seedVariables;
      expect(latest.checkpoint.variables).toEqual({ ...persisted, retry_count: 1 });
      const one = await store.get(id, 1);
      expect(one.status === 'restored' && one.checkpoint.checkpointId).toBe('chk_1715788320');
    });

    it('answers absent with the schema defaults for an unknown session', async () => {
      const latest = await harness().store(v3).latest(sid());
      expect(latest).toEqual({
        status: 'absent',
        revision: 0,
        variables: { routing_queue: 'general', crm_record_id: '', auth_status: 'unverified', retry_count: 0 },
      });
    });

    it('keeps the newest `history` checkpoints plus the first one, newest first', async () => {
      const store = harness().store(v3, { history: 3 });
      const id = sid();
      for (let i = 0; i < 7; i++)
        await store.save(id, { ...base, variables: { ...seedVariables, retry_count: i } });
      const entries = await store.history(id);
      const revisions = entries.map((e) => (e.status === 'restored' ? e.checkpoint.revision : -1));
      expect(revisions).toEqual([7, 6, 5, 1]);
      expect((await store.history(id, { limit: 2 })).length).toBe(2);
      expect((await store.get(id, 3)).status).toBe('absent');
      expect((await store.get(id, 4)).status).toBe('absent');
      const first = await store.get(id, 1);
      expect(first.status === 'restored' && first.checkpoint.variables.retry_count).toBe(0);
      expect((await store.get(id, 99)).status).toBe('absent');
    });

    it('trims at once when a later store keeps a shorter history', async () => {
      const h = harness();
      const id = sid();
      const wide = h.store(v3, { history: 10 });
      for (let i = 0; i < 8; i++) await wide.save(id, { ...base, variables: seedVariables });
      const narrow = h.store(v3, { history: 2 });
      await narrow.save(id, { ...base, variables: seedVariables });
      const revisions = (await wide.history(id)).map((e) => e.revision);
      expect(revisions).toEqual([9, 8, 1]);
    });

    it('expires a session after ttlSeconds without saves', async () => {
      const store = harness().store(v3, { ttlSeconds: 2, maxAgeSeconds: 60 });
      const id = sid();
      await store.save(id, { ...base, variables: seedVariables });
      expect((await store.latest(id)).status).toBe('restored');
      await waitUntil(
        'checkpoint expired',
        async () => (await store.latest(id)).status === 'absent',
        10_000,
        100,
      );
      // After expiry the counter starts over: the session is new in every respect.
      expect((await store.save(id, { ...base, variables: seedVariables })).revision).toBe(1);
    });

    it('slides the TTL on each save but never past maxAgeSeconds from the first save', async () => {
      // Margins of 2 s on every step, so a stalled test machine does not turn this into a flake.
      const store = harness().store(v3, { ttlSeconds: 4, maxAgeSeconds: 7 });
      const id = sid();
      const first = await store.save(id, { ...base, variables: seedVariables });
      await sleep(2_500);
      await store.save(id, { ...base, variables: seedVariables });
      await sleep(2_500);
      const last = await store.save(id, { ...base, variables: seedVariables });
      expect(last.revision).toBe(3);
      // 5 s after the first save: the first save's own TTL (4 s) alone would have dropped it.
      expect((await store.latest(id)).status).toBe('restored');
      await waitUntil(
        'hard max age reached',
        async () => (await store.latest(id)).status === 'absent',
        15_000,
        100,
      );
      // Gone before the last save's own sliding TTL ran out: the hard age cut it.
      expect(Date.now()).toBeLessThan(last.savedAt.getTime() + 4_000);
      expect(Date.now()).toBeGreaterThanOrEqual(first.savedAt.getTime() + 6_900);
    });

    it('rejects a stale expectedRevision with 409 and writes nothing', async () => {
      const store = harness().store(v3);
      const id = sid();
      await expect(
        store.save(id, { ...base, variables: seedVariables, expectedRevision: 3 }),
      ).rejects.toThrow(RevisionConflictError);
      expect((await store.latest(id)).status).toBe('absent');
      expect(
        (await store.save(id, { ...base, variables: seedVariables, expectedRevision: 0 })).revision,
      ).toBe(1);
      expect(
        (await store.save(id, { ...base, variables: seedVariables, expectedRevision: 1 })).revision,
      ).toBe(2);
      const err = await store
        .save(id, { ...base, variables: seedVariables, expectedRevision: 1 })
        .catch((e) => e);
      expect(isRevisionConflictError(err)).toBe(true);
      expect(err).toMatchObject({
        code: 'REVISION_CONFLICT',
        status: 409,
        expectedRevision: 1,
        actualRevision: 2,
      });
      const again = await store
        .save(id, { ...base, variables: seedVariables, expectedRevision: 0 })
        .catch((e) => e);
      expect(isRevisionConflictError(again)).toBe(true);
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && latest.checkpoint.revision).toBe(2);
    });

    it('answers a repeat of the latest save (same checkpointId and content) as the first run, writing nothing', async () => {
      const store = harness().store(v3);
      const id = sid();
      const once = { ...base, checkpointId: 'chk_retried', variables: seedVariables, fence: 3 };
      const first = await store.save(id, { ...once, expectedRevision: 0 });
      expect(await store.save(id, { ...once, expectedRevision: 0 })).toEqual(first);
      expect(await store.save(id, once)).toEqual(first);
      expect((await store.history(id)).map((h) => h.revision)).toEqual([1]);
      // The same id with other content is another save; then the first is no longer the latest.
      const changed = { ...once, variables: { ...seedVariables, retry_count: 1 } };
      expect((await store.save(id, changed)).revision).toBe(2);
      await expect(store.save(id, { ...once, expectedRevision: 0 })).rejects.toThrow(RevisionConflictError);
      expect((await store.save(id, once)).revision).toBe(3);
    });

    it('rejects a fence lower than the highest seen, also on retry, and keeps large fences exact', async () => {
      const store = harness().store(v3);
      const id = sid();
      await store.save(id, { ...base, variables: seedVariables, fence: 5 });
      await store.save(id, { ...base, variables: seedVariables, fence: 5 });
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await store.latest(id);
        const expectedRevision = current.status === 'restored' ? current.checkpoint.revision : 0;
        const err = await store
          .save(id, { ...base, variables: seedVariables, fence: 4, expectedRevision })
          .catch((e) => e);
        expect(isStaleFenceError(err)).toBe(true);
        expect(err).toMatchObject({ code: 'STALE_FENCE', status: 409, fence: 4, highestFence: 5 });
      }
      const big = Number.MAX_SAFE_INTEGER - 1;
      expect((await store.save(id, { ...base, variables: seedVariables, fence: big })).revision).toBe(3);
      await expect(store.save(id, { ...base, variables: seedVariables, fence: big - 1 })).rejects.toThrow(
        StaleFenceError,
      );
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && latest.checkpoint.fence).toBe(big);
      expect(latest.status === 'restored' && latest.checkpoint.revision).toBe(3);
    });

    it('deletes a session: counter, fence and checkpoints', async () => {
      const store = harness().store(v3);
      const id = sid();
      await store.save(id, { ...base, variables: seedVariables, fence: 9 });
      expect(await store.delete(id)).toBe(true);
      expect(await store.delete(id)).toBe(false);
      expect((await store.latest(id)).status).toBe('absent');
      expect((await store.save(id, { ...base, variables: seedVariables, fence: 1 })).revision).toBe(1);
    });
  });
}
