import { describe, expect, it } from 'vitest';
import { advance, type HysteresisState, reported } from '../src/hysteresis.js';
import type { Status } from '../src/index.js';

function run(observed: Status[], limits = { failAfter: 1, recoverAfter: 3 }): Status[] {
  let state: HysteresisState = { kind: 'unknown' };
  return observed.map((s) => {
    state = advance(state, s, limits);
    return reported(state);
  });
}

describe('hysteresis', () => {
  it('nothing observed yet counts as unhealthy', () => {
    expect(reported({ kind: 'unknown' })).toBe('unhealthy');
  });

  it('holds the latest failure until recoverAfter consecutive passes', () => {
    expect(
      run(['healthy', 'degraded', 'healthy', 'healthy', 'unhealthy', 'healthy', 'healthy', 'healthy']),
    ).toEqual([
      'healthy',
      'degraded',
      'degraded',
      'degraded',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
  });

  it('failAfter counts consecutive failures only', () => {
    const limits = { failAfter: 3, recoverAfter: 2 };
    expect(
      run(['healthy', 'unhealthy', 'unhealthy', 'healthy', 'unhealthy', 'unhealthy', 'unhealthy'], limits),
    ).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'unhealthy']);
  });

  it('recoverAfter 1 recovers on the first pass', () => {
    expect(run(['unhealthy', 'healthy'], { failAfter: 1, recoverAfter: 1 })).toEqual([
      'unhealthy',
      'healthy',
    ]);
  });
});
