import type { CheckpointBackend, QuarantineEntry, RawCheckpoint, WriteOutcome } from '../backend.js';
import type { PreparedSave } from '../encode.js';
import type { RedisClientLike } from './client.js';
import historyLua from './history-1.lua';
import quarantineLua from './quarantine-1.lua';
import rewriteLua from './rewrite-2.lua';
import { saveScript } from './save-script.js';
import { Script } from './scripts.js';
import { TickPipeline } from './tick-pipeline.js';

const scripts = {
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

/** The revision counter: the first of the session's packed meta field (see save-1.lua). */
const revisionOf = (meta: string) => Number(meta.slice(0, meta.indexOf(' ')));

/** One hash per session; the `{sessionId}` hash tag keeps everything of a session in one Cluster slot. */
export class RedisBackend implements CheckpointBackend {
  readonly #redis: TickPipeline;
  readonly #save: Script;

  constructor(
    client: RedisClientLike,
    private readonly settings: RedisBackendSettings,
  ) {
    this.#redis = new TickPipeline(client);
    this.#save = saveScript(settings);
  }

  key(sessionId: string): string {
    return `${this.settings.namespace}:{${sessionId}}`;
  }

  async write(sessionId: string, save: PreparedSave): Promise<WriteOutcome> {
    // The body goes without its opening brace: the script prepends revision and savedAt to it as is.
    // Absent conditions are left off instead of sent empty: every argument costs the server a string.
    const body = save.body.slice(1);
    const { expectedRevision: expected, fence } = save;
    const args =
      fence !== undefined
        ? [body, expected ?? '', fence]
        : expected !== undefined
          ? [body, expected]
          : [body];
    const reply = (await this.#redis.keyed(this.#save, this.key(sessionId), args)) as number[];
    const status = Number(reply[0]);
    const a = Number(reply[1]);
    if (status === 1) return { ok: true, revision: a, savedAtMs: Number(reply[2]) };
    if (status === 0) return { ok: false, kind: 'conflict', actualRevision: a };
    return { ok: false, kind: 'stale-fence', highestFence: a, actualRevision: Number(reply[2]) };
  }

  async latest(sessionId: string): Promise<RawCheckpoint | undefined> {
    const [meta = null, cur = null] = await this.#redis.hmget(this.key(sessionId), ['m', 'cur']);
    return meta !== null && cur !== null ? { revision: revisionOf(meta), raw: cur } : undefined;
  }

  async get(sessionId: string, revision: number): Promise<RawCheckpoint | undefined> {
    // Every kept revision, the latest included, has its own field.
    const [raw = null] = await this.#redis.hmget(this.key(sessionId), [`r:${revision}`]);
    return raw === null ? undefined : { revision, raw };
  }

  async history(sessionId: string, limit: number): Promise<RawCheckpoint[]> {
    const flat = (await this.#redis.script(scripts.history, [this.key(sessionId)], [limit])) as (
      | string
      | number
    )[];
    const out: RawCheckpoint[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ revision: Number(flat[i]), raw: String(flat[i + 1]) });
    return out;
  }

  async rewrite(sessionId: string, revision: number, read: string, raw: string): Promise<boolean> {
    const args = [String(revision), raw, read];
    return (await this.#redis.script(scripts.rewrite, [this.key(sessionId)], args)) === 1;
  }

  async quarantine(sessionId: string, entry: QuarantineEntry): Promise<boolean> {
    const args = [String(entry.revision), entry.entry, this.settings.maxQuarantined];
    return (await this.#redis.script(scripts.quarantine, [this.key(sessionId)], args)) === 1;
  }

  async quarantined(sessionId: string): Promise<string[]> {
    const all = await this.#redis.hgetall(this.key(sessionId));
    return Object.entries(all)
      .filter(([field]) => field.startsWith('q:'))
      .sort(([a], [b]) => Number(b.slice(2)) - Number(a.slice(2)))
      .map(([, value]) => value);
  }

  async delete(sessionId: string): Promise<boolean> {
    return (await this.#redis.del(this.key(sessionId))) > 0;
  }
}
