import { type RedisNodes, startRedisNodes, waitUntil } from '@cxkit/testkit';
import { trace } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckpointEvents,
  CheckpointStore,
  type ConfigError,
  isCheckpointError,
  isConfigError,
  type Logger,
  PostgresCheckpointStore,
} from '../src/index.js';
import { seedVariables, v1, v3, v4 } from './support/schemas.js';

let nodes: RedisNodes;
let client: Redis;
const base = { region: 'eu-west-1', flowVersion: '12' };

beforeAll(async () => {
  nodes = await startRedisNodes(1, { private: true });
  client = new Redis(nodes.urls[0]!);
});

afterAll(async () => {
  client?.disconnect();
  await nodes?.stop();
});

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('options', () => {
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
      expect(isConfigError(err)).toBe(true);
      return (err as ConfigError).field;
    }
    throw new Error('no ConfigError');
  };

  it('names the bad option in a ConfigError at construction', () => {
    expect(field(() => new CheckpointStore({ redis: client, schema: v3, ttlSeconds: 0 }))).toBe('ttlSeconds');
    expect(
      field(() => new CheckpointStore({ redis: client, schema: v3, ttlSeconds: 60, maxAgeSeconds: 30 })),
    ).toBe('maxAgeSeconds');
    expect(field(() => new CheckpointStore({ redis: client, schema: v3, namespace: 'a{b}' }))).toBe(
      'namespace',
    );
    expect(field(() => new CheckpointStore({ redis: {} as Redis, schema: v3 }))).toBe('redis');
    expect(field(() => new CheckpointStore({ redis: client, schema: {} as typeof v3 }))).toBe('schema');
    expect(field(() => new CheckpointStore({ redis: client, schema: v3, history: 0 }))).toBe('history');
    expect(field(() => new CheckpointStore({ redis: client, schema: v3, logger: {} as Logger }))).toBe(
      'logger',
    );
    const db = { query: async () => ({ rows: [] }) };
    expect(field(() => new PostgresCheckpointStore({ db, schema: v3, table: 'x; drop' }))).toBe('table');
    expect(field(() => new PostgresCheckpointStore({ db: {} as typeof db, schema: v3 }))).toBe('db');
  });
});

describe('events and logging', () => {
  it('emits typed events, unsubscribes, and survives a throwing listener', async () => {
    const { logger, lines } = recordingLogger();
    const store = new CheckpointStore({
      redis: client,
      schema: v3,
      namespace: 'ev',
      logger,
      writeBackMigrated: true,
    });
    const seen: { name: keyof CheckpointEvents; event: unknown }[] = [];
    const names: (keyof CheckpointEvents)[] = [
      'saved',
      'conflict',
      'staleFence',
      'migrated',
      'incompatible',
      'deleted',
    ];
    const offs = names.map((name) => store.on(name, (event) => seen.push({ name, event })));
    const throwing = store.on('saved', () => {
      throw new Error('listener bug');
    });

    const saved = await store.save('ev1', { ...base, variables: seedVariables, fence: 3 });
    expect(saved.revision).toBe(1);
    await store.save('ev1', { ...base, variables: seedVariables, expectedRevision: 9 }).catch(() => {});
    await store.save('ev1', { ...base, variables: seedVariables, fence: 2 }).catch(() => {});
    await new CheckpointStore({ redis: client, schema: v1, namespace: 'ev' }).save('ev2', {
      ...base,
      variables: { queue: 'q', crm: 'c', authenticated: false },
    });
    await store.latest('ev2');
    await new CheckpointStore({ redis: client, schema: v4, namespace: 'ev' }).save('ev3', {
      ...base,
      variables: { routing: { queue: 'q' } },
    });
    await store.latest('ev3');
    await store.delete('ev1');

    expect(seen.map((s) => s.name)).toEqual([
      'saved',
      'conflict',
      'staleFence',
      'migrated',
      'incompatible',
      'deleted',
    ]);
    expect(seen[0]!.event).toMatchObject({ sessionId: 'ev1', revision: 1, bytes: expect.any(Number) });
    expect(seen[1]!.event).toMatchObject({ expectedRevision: 9, actualRevision: 1 });
    expect(seen[2]!.event).toMatchObject({ fence: 2, highestFence: 3 });
    expect(seen[3]!.event).toMatchObject({ fromVersion: 1, toVersion: 3, writtenBack: true });
    expect(seen[4]!.event).toMatchObject({ reason: 'newer-version', quarantined: false });
    expect(lines.some((l) => l.level === 'error' && l.msg === 'checkpoint event listener threw')).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'checkpoint incompatible')).toBe(true);

    for (const off of offs) off();
    throwing.dispose();
    await store.save('ev1', { ...base, variables: seedVariables });
    expect(seen).toHaveLength(6);
  });

  it('reloads its scripts after the server forgot them (NOSCRIPT)', async () => {
    const store = new CheckpointStore({ redis: client, schema: v3, namespace: 'ns' });
    await store.save('s1', { ...base, variables: seedVariables });
    await client.script('FLUSH');
    expect((await store.save('s1', { ...base, variables: seedVariables })).revision).toBe(2);
    expect((await store.history('s1')).length).toBe(2);
  });

  it('marks every error with a stable code and guard', async () => {
    const store = new CheckpointStore({ redis: client, schema: v3, namespace: 'g' });
    const err = await store.save('', { ...base, variables: seedVariables }).catch((e) => e);
    expect(isCheckpointError(err)).toBe(true);
    expect(isCheckpointError(new Error('x'))).toBe(false);
    expect(isConfigError(err)).toBe(false);
  });
});

describe('OpenTelemetry', () => {
  it('wraps save and latest in spans when @opentelemetry/api is present, recording failures', async () => {
    const spans: { name: string; attributes: unknown; ended: boolean; error?: string }[] = [];
    const span = (name: string, attributes: unknown) => {
      const record: (typeof spans)[number] = { name, attributes, ended: false };
      spans.push(record);
      return {
        end: () => {
          record.ended = true;
        },
        recordException: () => {},
        setStatus: (s: { message?: string }) => {
          record.error = s.message;
        },
      };
    };
    const tracer = {
      startSpan: (name: string, o?: { attributes?: unknown }) => span(name, o?.attributes),
      startActiveSpan: (name: string, o: { attributes?: unknown }, fn: (s: unknown) => unknown) =>
        fn(span(name, o.attributes)),
    };
    trace.setGlobalTracerProvider({ getTracer: () => tracer } as never);
    const store = new CheckpointStore({ redis: client, schema: v3, namespace: 'otel' });
    await waitUntil('spans recorded', async () => {
      await store.latest('o1');
      return spans.some((s) => s.name === 'checkpoint.latest');
    });
    await store.save('o1', { ...base, variables: seedVariables });
    await store.save('o1', { ...base, variables: seedVariables, expectedRevision: 7 }).catch(() => {});
    const saves = spans.filter((s) => s.name === 'checkpoint.save');
    expect(saves).toHaveLength(2);
    expect(saves.every((s) => s.ended)).toBe(true);
    expect(saves[0]!.attributes).toEqual({ 'cxkit.session_id': 'o1' });
    expect(saves[0]!.error).toBeUndefined();
    expect(saves[1]!.error).toMatch(/expected revision 7/);
    trace.disable();
  });
});
