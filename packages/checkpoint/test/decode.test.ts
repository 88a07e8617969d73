import { describe, expect, it } from 'vitest';
import { decode, encodeMigrated } from '../src/decode.js';
import { v1, v3 } from './support/schemas.js';

const good = {
  revision: 4,
  savedAt: 1_715_788_320_000,
  checkpointId: 'chk_1',
  region: 'eu-west-1',
  flowVersion: '12',
  schemaVersion: 1,
  variables: { queue: 'billing', crm: 'cust_1', authenticated: false },
};

describe('decode', () => {
  it('names what is wrong with a stored envelope', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, revision: 0 }, /revision/],
      [{ ...good, savedAt: 'yesterday' }, /savedAt/],
      [{ ...good, checkpointId: 1 }, /checkpointId/],
      [{ ...good, schemaVersion: '1' }, /schemaVersion/],
      [{ ...good, fence: 1.5 }, /fence/],
      [{ ...good, variables: [] }, /variables/],
      ['text', /not an object/],
    ];
    for (const [payload, detail] of cases) {
      const out = decode('s', JSON.stringify(payload), v3);
      expect(out.ok).toBe(false);
      expect(!out.ok && out.reason).toBe('malformed');
      expect(!out.ok && out.detail).toMatch(detail);
    }
  });

  it('upcasts, reports a throwing migration, and re-encodes with the new version', () => {
    const out = decode('s', JSON.stringify(good), v3);
    expect(out.ok && out.fromVersion).toBe(1);
    if (!out.ok) return;
    expect(out.checkpoint.variables).toEqual({
      routing_queue: 'billing',
      crm_record_id: 'cust_1',
      auth_status: 'unverified',
      retry_count: 0,
    });
    const again = decode('s', encodeMigrated(out.checkpoint, 1), v3);
    expect(again.ok && again.fromVersion).toBe(3);
    expect(again.ok && again.checkpoint.savedAt.getTime()).toBe(good.savedAt);
    // A v1 reader sees the written-back payload as newer.
    expect(decode('s', encodeMigrated(out.checkpoint, 1), v1)).toMatchObject({
      ok: false,
      reason: 'newer-version',
    });
    const broken = { ...good, variables: { queue: 'x', crm: 'c', authenticated: true, boom: true } };
    const throwing = {
      ...v3,
      upcasts: new Map([
        [
          1,
          () => {
            throw new Error('bad data');
          },
        ],
        [2, (v: Record<string, unknown>) => v],
      ]),
    } as unknown as typeof v3;
    expect(decode('s', JSON.stringify(broken), throwing)).toMatchObject({
      ok: false,
      reason: 'migration-failed',
    });
  });
});
