import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CheckpointTooLargeError,
  CheckpointValidationError,
  InvalidSessionIdError,
  isCheckpointTooLargeError,
  isCheckpointValidationError,
  isInvalidSessionIdError,
  isNotSerializableError,
} from '../../src/index.js';
import type { Harness } from './harness.js';
import { loose, seedVariables, v3 } from './schemas.js';

const base = { region: 'eu-west-1', flowVersion: 7 };

export function badInputSuite(name: string, harness: () => Harness): void {
  describe(`bad input writes nothing: ${name}`, () => {
    it('lists every failing field of invalid variables and leaves the session untouched', async () => {
      const store = harness().store(v3);
      const id = `bad_${randomUUID()}`;
      await store.save(id, { ...base, variables: seedVariables });
      const variables = {
        ...seedVariables,
        retry_count: -1,
        auth_status: 'maybe',
      } as unknown as typeof seedVariables;
      const err = await store.save(id, { ...base, variables }).catch((e) => e);
      expect(err).toBeInstanceOf(CheckpointValidationError);
      expect(isCheckpointValidationError(err)).toBe(true);
      expect(err.status).toBe(422);
      expect(err.issues.map((i: { path: string }) => i.path).sort()).toEqual([
        'variables.auth_status',
        'variables.retry_count',
      ]);
      const noRegion = await store
        .save(id, { ...base, region: '', variables: seedVariables })
        .catch((e) => e);
      expect(noRegion.issues[0].path).toBe('region');
      const badFence = await store.save(id, { ...base, fence: -1, variables: seedVariables }).catch((e) => e);
      expect(badFence.issues[0].path).toBe('fence');
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && latest.checkpoint.revision).toBe(1);
    });

    it('rejects oversized checkpoints (64 KiB by default, configurable) with 413', async () => {
      const h = harness();
      const id = `big_${randomUUID()}`;
      const store = h.store(loose);
      const err = await store.save(id, { ...base, variables: { blob: 'x'.repeat(70_000) } }).catch((e) => e);
      expect(err).toBeInstanceOf(CheckpointTooLargeError);
      expect(err).toMatchObject({ code: 'CHECKPOINT_TOO_LARGE', status: 413, maxBytes: 65_536 });
      expect(err.bytes).toBeGreaterThan(70_000);
      expect((await store.save(id, { ...base, variables: { blob: 'x'.repeat(60_000) } })).revision).toBe(1);
      const small = h.store(loose, { maxBytes: 1_024 });
      const e2 = await small.save(id, { ...base, variables: { blob: 'é'.repeat(600) } }).catch((e) => e);
      expect(isCheckpointTooLargeError(e2)).toBe(true);
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && latest.checkpoint.revision).toBe(1);
    });

    it('rejects values JSON cannot carry, naming the path', async () => {
      const store = harness().store(loose);
      const id = `json_${randomUUID()}`;
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      const cases: [Record<string, unknown>, string][] = [
        [{ amount: 10n }, 'amount'],
        [{ nested: { fn: () => 1 } }, 'nested.fn'],
        [{ loop: cyclic }, 'loop.self'],
        [{ score: Number.NaN }, 'score'],
        [{ score: Number.POSITIVE_INFINITY }, 'score'],
        [{ seen: new Map([['a', 1]]) }, 'seen'],
        [{ at: new Date() }, 'at'],
        [{ list: [1, undefined] }, 'list.1'],
      ];
      for (const [variables, path] of cases) {
        const err = await store.save(id, { ...base, variables }).catch((e) => e);
        expect(isNotSerializableError(err), path).toBe(true);
        expect(err).toMatchObject({ code: 'CHECKPOINT_NOT_SERIALIZABLE', status: 422, path });
      }
      expect((await store.latest(id)).status).toBe('absent');
    });

    it('rejects empty, overlong, non-string and control-character session ids with 400', async () => {
      const store = harness().store(v3, { maxSessionIdLength: 64 });
      for (const id of ['', 'x'.repeat(65), 42 as unknown as string, 'a\nb']) {
        const err = await store.save(id, { ...base, variables: seedVariables }).catch((e) => e);
        expect(err).toBeInstanceOf(InvalidSessionIdError);
        expect(err).toMatchObject({ code: 'SESSION_ID_INVALID', status: 400 });
        await expect(store.latest(id)).rejects.toSatisfy(isInvalidSessionIdError);
      }
      const longest = 'y'.repeat(64);
      expect((await store.save(longest, { ...base, variables: seedVariables })).revision).toBeGreaterThan(0);
      await store.delete(longest);
      const brace = `odd}{id_${randomUUID()}`;
      expect((await store.save(brace, { ...base, variables: seedVariables })).revision).toBe(1);
      expect((await store.latest(brace)).status).toBe('restored');
    });
  });
}
