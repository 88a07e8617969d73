import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { seedVariables, v1, v2, v3, v3Quarantine, v4 } from './schemas.js';

const sid = () => `session_${randomUUID()}`;
const base = { region: 'eu-west-1', flowVersion: '12' };

/** Schema drift between regions (seed 001, edge case 3): upcasts, newer versions, broken payloads. */
export function schemaSuite(name: string, harness: () => Harness): void {
  describe(`schema versions and stored data: ${name}`, () => {
    it('upcasts v1 -> v3 through a mapping table and code, optionally writing it back', async () => {
      const h = harness();
      const id = sid();
      await h
        .store(v1)
        .save(id, { ...base, variables: { queue: 'billing', crm: 'cust_1', authenticated: true } });
      const plain = await h.store(v3).latest(id);
      expect(plain).toMatchObject({ status: 'migrated', fromVersion: 1, writtenBack: false });
      expect(plain.status === 'migrated' && plain.checkpoint.variables).toEqual({
        routing_queue: 'billing',
        crm_record_id: 'cust_1',
        auth_status: 'verified',
        retry_count: 0,
      });
      expect((await h.store(v2).latest(id)).status).toBe('migrated');
      const writing = h.store(v3, { writeBackMigrated: true });
      expect(await writing.latest(id)).toMatchObject({ status: 'migrated', writtenBack: true });
      const after = await writing.latest(id);
      expect(after.status).toBe('restored');
      expect(after.status === 'restored' && after.checkpoint.revision).toBe(1);
      // A region still on v2 now sees a newer payload and takes its degradation path.
      expect(await h.store(v2).latest(id)).toMatchObject({ status: 'incompatible', reason: 'newer-version' });
    });

    it('answers incompatible for a newer schema version, quarantining it on request', async () => {
      const h = harness();
      const id = sid();
      await h.store(v4).save(id, { ...base, variables: { routing: { queue: 'vip' } } });
      const ignored = await h.store(v3).latest(id);
      expect(ignored).toMatchObject({
        status: 'incompatible',
        reason: 'newer-version',
        storedVersion: 4,
        revision: 1,
        quarantined: false,
        variables: { routing_queue: 'general' },
      });
      const store = h.store(v3Quarantine);
      expect(await store.latest(id)).toMatchObject({ status: 'incompatible', quarantined: true });
      expect(await store.latest(id)).toMatchObject({ status: 'incompatible', quarantined: true });
      const kept = await store.quarantined(id);
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatchObject({ reason: 'newer-version' });
      expect(JSON.parse(kept[0]!.raw).variables).toEqual({ routing: { queue: 'vip' } });
      // Bounded: past maxQuarantined entries the payload is reported, not kept.
      await h.store(v4).save(id, { ...base, variables: { routing: { queue: 'vip2' } } });
      const full = h.store(v3Quarantine, { maxQuarantined: 1 });
      expect(await full.latest(id)).toMatchObject({
        status: 'incompatible',
        revision: 2,
        quarantined: false,
      });
      expect(await full.quarantined(id)).toHaveLength(1);
    });

    it('answers incompatible, never throws, for malformed or invalid stored payloads', async () => {
      const h = harness();
      const store = h.store(v3);
      const id = sid();
      await store.save(id, { ...base, variables: seedVariables });
      await h.corrupt(id, '{"revision":1,"variables":[1,2');
      expect(await store.latest(id)).toMatchObject({
        status: 'incompatible',
        reason: 'malformed',
        revision: 1,
      });
      await h.corrupt(id, '[]');
      expect(await store.latest(id)).toMatchObject({ status: 'incompatible', reason: 'malformed' });
      const wrongShape = {
        revision: 1,
        savedAt: Date.now(),
        checkpointId: 'c',
        region: 'r',
        flowVersion: '1',
      };
      // Edge case 3 of the seed: an array where the schema wants a string.
      const drifted = {
        ...wrongShape,
        schemaVersion: 3,
        variables: { ...seedVariables, routing_queue: ['a'] },
      };
      await h.corrupt(id, JSON.stringify(drifted));
      const invalid = await store.latest(id);
      expect(invalid).toMatchObject({ status: 'incompatible', reason: 'invalid', storedVersion: 3 });
      expect(invalid.status === 'incompatible' && invalid.detail).toContain('variables.routing_queue');
      await h.corrupt(id, JSON.stringify({ ...wrongShape, schemaVersion: 0, variables: {} }));
      expect(await store.latest(id)).toMatchObject({ status: 'incompatible', reason: 'unknown-version' });
      // The session can move on: the next save is revision 2 and readable again.
      expect((await store.save(id, { ...base, variables: seedVariables })).revision).toBe(2);
      expect((await store.latest(id)).status).toBe('restored');
    });

    it('never stores transient fields', async () => {
      const h = harness();
      const store = h.store(v3);
      const id = sid();
      await store.save(id, { ...base, variables: { ...seedVariables, temp_total: 42.5 } });
      const raw = await h.rawLatest(id);
      expect(raw).toBeDefined();
      expect(raw).not.toContain('last_menu_selection');
      expect(raw).not.toContain('billing_options');
      expect(raw).not.toContain('temp_total');
      const latest = await store.latest(id);
      expect(latest.status === 'restored' && Object.keys(latest.checkpoint.variables).sort()).toEqual([
        'auth_status',
        'crm_record_id',
        'retry_count',
        'routing_queue',
      ]);
    });
  });
}
