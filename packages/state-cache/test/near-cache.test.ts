import { describe, expect, it } from 'vitest';
import { NearCache, satisfies } from '../src/near-cache.js';

const single = () => 0;
const near = (toldMax = 100) =>
  new NearCache<string>({ max: 100, ttlMs: 60_000, toldMax, partitions: 1 }, single);

describe('NearCache (unit)', () => {
  it('refuses a read older than a told version, and evicts entries an invalidation supersedes', () => {
    const c = near();
    expect(c.offer('k', 'v1', 1, 10)).toBe(true);
    c.invalidate('k', 2, 11, false);
    expect(c.fresh('k')).toBeUndefined();
    expect(c.offer('k', 'v1', 1, 10)).toBe(false);
    expect(c.offer('k', 'v2', 2, 11)).toBe(true);
    expect(c.fresh('k')?.value).toBe('v2');
    // A purged tombstone (absent, version -1) is consistent with a told DELETE.
    c.invalidate('k', 3, 12, true);
    expect(c.offer('k', undefined, -1, 12)).toBe(true);
  });

  it('refuses an absence read before a told DELETE: it predates the key, not a purged tombstone', () => {
    const c = near();
    // The read (sequence 11) went out before the key's first write, a DELETE at sequence 12, whose
    // invalidation arrived first.
    c.invalidate('k', 5, 12, true);
    expect(c.offer('k', undefined, -1, 11)).toBe(false);
    expect(c.fresh('k')).toBeUndefined();
    // Read after it, the absence is the purged tombstone.
    expect(c.offer('k', undefined, -1, 12)).toBe(true);
  });

  it('demotes a partition on a gap: entries become suspect and older reads are refused', () => {
    const c = near();
    c.offer('k', 'v1', 1, 10);
    c.suspect(0, 20);
    expect(c.fresh('k')).toBeUndefined();
    expect(c.any('k')?.value).toBe('v1');
    expect(c.offer('k', 'v1', 1, 19)).toBe(false);
    expect(c.offer('k', 'v1', 1, 20)).toBe(true);
    expect(c.fresh('k')?.value).toBe('v1');
  });

  it('while distrusted (bus down) stores and serves nothing, until trusted again from known sequences', () => {
    const c = near();
    c.offer('k', 'v1', 1, 10);
    c.distrust();
    expect(c.fresh('k')).toBeUndefined();
    expect(c.offer('k', 'v2', 2, 11)).toBe(false);
    expect(c.any('k')?.value).toBe('v1');
    c.trustFrom([20]);
    expect(c.offer('k', 'v2', 2, 19)).toBe(false);
    expect(c.offer('k', 'v2', 2, 20)).toBe(true);
    expect(c.fresh('k')?.value).toBe('v2');
  });

  it('raises the floor only when a told version is forgotten, not when it is overwritten', () => {
    const c = near(2);
    c.invalidate('a', 1, 5, false);
    c.invalidate('a', 2, 6, false); // overwrite
    expect(c.watermark('x').floor).toBe(0);
    c.invalidate('b', 1, 7, false);
    c.invalidate('c', 1, 8, false); // evicts 'a' (seq 6)
    expect(c.watermark('a')).toEqual({ version: -1, deleted: false, floor: 6 });
    expect(c.offer('a', 'old', 1, 5)).toBe(false);
    expect(satisfies(c.watermark('a'), 'new', 2, 9)).toBe(true);
  });
});
