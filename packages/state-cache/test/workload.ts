import type { StateEvent } from '../src/index.js';
import type { Agent } from './helpers.js';

/** Deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per-key histories (CREATED, UPDATED..., some DELETED and re-CREATED) in version order. */
export function histories(keys: number, total: number, random: () => number): StateEvent<Agent>[] {
  const events: StateEvent<Agent>[] = [];
  const version = new Array<number>(keys).fill(0);
  const alive = new Array<boolean>(keys).fill(false);
  for (let i = 0; i < total; i++) {
    const k = i < keys ? i : Math.floor(random() * keys);
    const v = ++version[k]!;
    const key = `agent-${k}`;
    if (alive[k] && random() < 0.12) {
      alive[k] = false;
      events.push({ key, version: v, type: 'DELETED' });
    } else {
      const type = alive[k] ? 'UPDATED' : 'CREATED';
      alive[k] = true;
      events.push({ key, version: v, type, value: { state: random() < 0.5 ? 'idle' : 'busy', n: v } });
    }
  }
  return events;
}

/** The state a sequential, in-order apply produces: per key, the highest version wins. */
export function sequentialState(events: StateEvent<Agent>[]): Map<string, StateEvent<Agent>> {
  const last = new Map<string, StateEvent<Agent>>();
  for (const e of events) {
    const prev = last.get(e.key);
    if (!prev || prev.version < e.version) last.set(e.key, e);
  }
  return last;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
