import { type RedisNodes, startRedisNodes } from '@cxkit/testkit';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** One private Redis master per test file plus the clients a file opened, closed together. */
export interface Env {
  nodes: RedisNodes;
  url: string;
  client(options?: { autoPipelining?: boolean }): Redis;
  stop(): Promise<void>;
}

export async function startEnv(): Promise<Env> {
  const nodes = await startRedisNodes(1, { private: true });
  const url = nodes.urls[0]!;
  const clients: Redis[] = [];
  return {
    nodes,
    url,
    client(options = {}) {
      const c = new Redis(url, {
        enableAutoPipelining: options.autoPipelining ?? false,
        maxRetriesPerRequest: 2,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      await nodes.stop();
    },
  };
}

/** Starts the file's Redis before its tests (handing it to `ready`) and stops it after them. */
export function suiteEnv(ready: (env: Env) => void): void {
  let env: Env | undefined;
  beforeAll(async () => {
    env = await startEnv();
    ready(env);
  });
  afterAll(() => env?.stop());
}

/** Script calls the server has run (EVAL + EVALSHA), from INFO commandstats. */
export async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) total += Number(m[1]);
  return total;
}

/** Counts calls of the multi-id and single-id claim scripts made through `client`. */
export function countScripts(client: Redis | Cluster): { many: number; one: number } {
  const counts = { many: 0, one: 0 };
  const target = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, key] of [
    ['cxkit_dedup_v2_claim', 'many'],
    ['cxkit_dedup_v2_claim_one', 'one'],
  ] as const) {
    const original = target[name]!;
    target[name] = function (this: unknown, ...args: unknown[]) {
      counts[key]++;
      return original.apply(this, args);
    };
  }
  return counts;
}

/** A deterministic shuffle (mulberry32), so each consumer sees its own order and failures reproduce. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A promise with its resolve function, to wait until a handler has really started. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
