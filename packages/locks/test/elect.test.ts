import { describe, expect, it, vi } from 'vitest';
import { isLockLostError, LockManager } from '../src/index.js';
import { oneMaster, sleep } from './helpers.js';

// Leadership lasts as long as the lock, whatever onElected does: a failed set-up gives it up, and a
// demotion is announced even while onElected still runs.

const env = oneMaster(600);

function managers(): [LockManager, LockManager] {
  const options = { heartbeatIntervalMs: 100, staleAfterMs: 600 };
  return [
    new LockManager({ nodes: env.clients[0]!, region: 'us-east-1', ...options }),
    new LockManager({ nodes: env.clients[1]!, region: 'eu-west-1', ...options }),
  ];
}

describe('elect', () => {
  it('a leader whose onElected throws gives leadership up, and another instance leads', async () => {
    const [a, b] = managers();
    const demoted: unknown[] = [];
    try {
      const ea = a.elect('failing-setup', {
        onElected: () => Promise.reject(new Error('no database')),
        onDemoted: (reason) => void demoted.push(reason),
        ttlMs: 1_000,
      });
      await sleep(200);
      let bLeads = false;
      const eb = b.elect('failing-setup', {
        onElected: () => {
          bLeads = true;
        },
        ttlMs: 1_000,
      });
      await sleep(1_000);
      expect(bLeads).toBe(true);
      expect(eb.isLeader).toBe(true);
      expect(ea.isLeader).toBe(false);
      expect(demoted.length).toBeGreaterThanOrEqual(1);
      await Promise.all([ea.stop(), eb.stop()]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a leader is demoted when its lock is lost although onElected never returns, and stop() resolves', async () => {
    const [a] = managers();
    const demoted: unknown[] = [];
    try {
      const ea = a.elect('stuck-leader', {
        onElected: () => new Promise<void>(() => {}), // ignores lock.signal
        onDemoted: (reason) => void demoted.push(reason),
        ttlMs: 1_000,
      });
      await sleep(300);
      expect(ea.isLeader).toBe(true);
      // Another owner's record: the next heartbeat finds the lock taken over.
      const key = 'cxkit:locks:{elect:stuck-leader}';
      const [, hw, , ...rest] = (await env.clients[1]!.get(key))!.split(' ');
      await env.clients[1]!.set(key, [Date.now() + 5_000, hw, 'intruder', ...rest].join(' '));
      await sleep(500);
      expect(ea.isLeader).toBe(false);
      expect(demoted).toHaveLength(1);
      expect(isLockLostError(demoted[0]) && demoted[0].reason).toBe('taken-over');
      const stopped = await Promise.race([ea.stop().then(() => true), sleep(2_000).then(() => false)]);
      expect(stopped).toBe(true);
    } finally {
      await a.close();
    }
  });

  it('an onElected that rejects with the abort reason once demoted ends its term normally (no error, no delay)', async () => {
    const error = vi.fn();
    const logger = { debug() {}, info() {}, warn() {}, error };
    const a = new LockManager({
      nodes: env.clients[0]!,
      heartbeatIntervalMs: 100,
      staleAfterMs: 600,
      logger,
    });
    try {
      const ea = a.elect('signal-aware', {
        onElected: (lock) =>
          new Promise<void>((_, reject) =>
            lock.signal.addEventListener('abort', () => reject(lock.signal.reason)),
          ),
        ttlMs: 1_000,
      });
      await sleep(300);
      expect(ea.isLeader).toBe(true);
      await ea.stop();
      expect(error).not.toHaveBeenCalled();
    } finally {
      await a.close();
    }
  });

  it("close() resolves after the demotion of the manager's elections (onDemoted) has run", async () => {
    const [a] = managers();
    let demotedDone = false;
    const ea = a.elect('closing', {
      onElected: () => {},
      onDemoted: async () => {
        await sleep(200);
        demotedDone = true;
      },
      ttlMs: 1_000,
    });
    await sleep(200);
    expect(ea.isLeader).toBe(true);
    await a.close();
    expect(demotedDone).toBe(true);
    expect(ea.isLeader).toBe(false);
  });
});
