import type { CheckpointBackend, QuarantineEntry, RawCheckpoint, WriteOutcome } from '../backend.js';
import type { PreparedSave } from '../encode.js';
import type { RedisClientLike } from './client.js';
import historyLua from './history-1.lua';
import quarantineLua from './quarantine-1.lua';
import rewriteLua from './rewrite-1.lua';
import saveLua from './save-1.lua';
import { Script } from './scripts.js';

const scripts = {
  save: new Script(saveLua),
  history: new Script(historyLua),
  rewrite: new Script(rewriteLua),
  quarantine: new Script(quarantineLua),
};

export interface RedisBackendSettings {
  namespace: string;
  history: number;
  ttlMs: number;
  maxAgeMs: number;
  maxQuarantined: number;
}

/** One hash per session; the `{sessionId}` hash tag keeps everything of a session in one Cluster slot. */
export class RedisBackend implements CheckpointBackend {
  constructor(
    private readonly client: RedisClientLike,
    private readonly settings: RedisBackendSettings,
  ) {}

  key(sessionId: string): string {
    return `${this.settings.namespace}:{${sessionId}}`;
  }

  async write(sessionId: string, save: PreparedSave): Promise<WriteOutcome> {
    const { history, ttlMs, maxAgeMs } = this.settings;
    const reply = (await scripts.save.run(
      this.client,
      [this.key(sessionId)],
      [save.body, save.expectedRevision ?? '', save.fence ?? '', history, ttlMs, maxAgeMs],
    )) as number[];
    const [status, a, b] = reply.map(Number) as [number, number, number | undefined];
    if (status === 1) return { ok: true, revision: a, savedAtMs: b! };
    if (status === 0) return { ok: false, kind: 'conflict', actualRevision: a };
    return { ok: false, kind: 'stale-fence', highestFence: a, actualRevision: b! };
  }

  async latest(sessionId: string): Promise<RawCheckpoint | undefined> {
    const [rev = null, cur = null] = await this.client.hmget(this.key(sessionId), 'rev', 'cur');
    return rev !== null && cur !== null ? { revision: Number(rev), raw: cur } : undefined;
  }

  async get(sessionId: string, revision: number): Promise<RawCheckpoint | undefined> {
    const [rev = null, cur = null, old = null] = await this.client.hmget(
      this.key(sessionId),
      'rev',
      'cur',
      `r:${revision}`,
    );
    if (rev !== null && Number(rev) === revision && cur !== null) return { revision, raw: cur };
    return old === null ? undefined : { revision, raw: old };
  }

  async history(sessionId: string, limit: number): Promise<RawCheckpoint[]> {
    const flat = (await scripts.history.run(this.client, [this.key(sessionId)], [limit])) as (
      | string
      | number
    )[];
    const out: RawCheckpoint[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ revision: Number(flat[i]), raw: String(flat[i + 1]) });
    return out;
  }

  async rewrite(sessionId: string, revision: number, raw: string): Promise<boolean> {
    return (await scripts.rewrite.run(this.client, [this.key(sessionId)], [String(revision), raw])) === 1;
  }

  async quarantine(sessionId: string, entry: QuarantineEntry): Promise<boolean> {
    const args = [String(entry.revision), entry.entry, this.settings.maxQuarantined];
    return (await scripts.quarantine.run(this.client, [this.key(sessionId)], args)) === 1;
  }

  async quarantined(sessionId: string): Promise<string[]> {
    const all = await this.client.hgetall(this.key(sessionId));
    return Object.entries(all)
      .filter(([field]) => field.startsWith('q:'))
      .sort(([a], [b]) => Number(b.slice(2)) - Number(a.slice(2)))
      .map(([, value]) => value);
  }

  async delete(sessionId: string): Promise<boolean> {
    return (await this.client.del(this.key(sessionId))) > 0;
  }
}
