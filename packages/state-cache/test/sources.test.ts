import { startPostgres } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeKafkaMessage,
  isConfigError,
  iterableSource,
  kafkaSource,
  postgresOutboxSource,
  type SourceRecord,
  type StateEvent,
  type StateSource,
} from '../src/index.js';

async function collect<T>(source: StateSource<T>, fromOffset?: string): Promise<SourceRecord<T>[]> {
  const out: SourceRecord<T>[] = [];
  for await (const r of source.read({ fromOffset, signal: new AbortController().signal })) out.push(r);
  return out;
}

describe('postgresOutboxSource (real Postgres)', () => {
  let handle: Awaited<ReturnType<typeof startPostgres>>;
  let pool: pg.Pool;
  beforeAll(async () => {
    handle = await startPostgres();
    pool = new pg.Pool({ connectionString: handle.url, max: 3 });
    // Dropping the throwaway database at the end terminates idle pooled connections.
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await pool.end();
    await handle.stop();
  });

  it('reads every row in id order in pages and resumes after an offset', async () => {
    const source = postgresOutboxSource<{ n: number }>({ db: pool, table: 'outbox_a', batchSize: 700 });
    await source.migrate();
    const events: StateEvent<{ n: number }>[] = Array.from({ length: 2_500 }, (_, i) =>
      i % 10 === 9
        ? { key: `k${i % 50}`, version: i, type: 'DELETED' }
        : { key: `k${i % 50}`, version: i, type: 'UPDATED', value: { n: i } },
    );
    for (let i = 0; i < events.length; i += 400) await source.append(events.slice(i, i + 400));
    const all = await collect(source);
    expect(all).toHaveLength(2_500);
    expect(all.map((r) => r.event)).toEqual(events);
    const offsets = all.map((r) => BigInt(r.offset));
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
    const rest = await collect(source, all[999]!.offset);
    expect(rest).toHaveLength(1_500);
    expect(rest[0]!.event).toEqual(events[1_000]);
  });

  it('stops when its signal aborts, and rejects bad options with a ConfigError', async () => {
    const source = postgresOutboxSource({ db: pool, table: 'outbox_a', batchSize: 100 });
    const controller = new AbortController();
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of source.read({ fromOffset: undefined, signal: controller.signal })) {
          if (++n === 150) controller.abort(new Error('stop'));
        }
      })(),
    ).rejects.toThrow('stop');
    expect(n).toBeLessThanOrEqual(200);
    for (const bad of [
      { table: 'x; drop table y' },
      { table: 'ok', batchSize: 0 },
      { table: 'ok', fromOffset: 'abc' },
    ]) {
      let err: unknown;
      try {
        postgresOutboxSource({ db: pool, ...bad });
      } catch (e) {
        err = e;
      }
      expect(isConfigError(err)).toBe(true);
    }
  });
});

describe('kafkaSource mapping (no broker)', () => {
  it('maps key, JSON value and offsets; a null value is a DELETED with its version header', () => {
    expect(
      decodeKafkaMessage({
        partition: 2,
        message: {
          offset: '41',
          key: Buffer.from('agent-1'),
          value: Buffer.from('{"version":7,"type":"UPDATED","value":{"s":"idle"}}'),
        },
      }),
    ).toEqual({ key: 'agent-1', version: 7, type: 'UPDATED', value: { s: 'idle' } });
    expect(
      decodeKafkaMessage({
        partition: 0,
        message: { offset: '9', key: 'agent-2', value: null, headers: { version: Buffer.from('12') } },
      }),
    ).toEqual({ key: 'agent-2', version: 12, type: 'DELETED' });
    expect(() =>
      decodeKafkaMessage({ partition: 0, message: { offset: '1', key: null, value: '{}' } }),
    ).toThrow(/no key/);
  });

  it('yields <partition>:<offset> records and passes the resume offset to the consumer', async () => {
    const seen: (string | undefined)[] = [];
    const source = kafkaSource<{ s: string }>({
      async *messages({ fromOffset }) {
        seen.push(fromOffset);
        yield {
          partition: 1,
          message: { offset: '5', key: 'a', value: '{"version":1,"type":"CREATED","value":{"s":"x"}}' },
        };
        yield { partition: 1, message: { offset: '6', key: 'a', value: null, headers: { version: ['2'] } } };
      },
    });
    const records = await collect(source, '1:4');
    expect(seen).toEqual(['1:4']);
    expect(records).toEqual([
      { offset: '1:5', event: { key: 'a', version: 1, type: 'CREATED', value: { s: 'x' } } },
      { offset: '1:6', event: { key: 'a', version: 2, type: 'DELETED' } },
    ]);
  });

  it('skips and logs a message it cannot decode; the records around it keep their offsets', async () => {
    const logged: { obj: object; msg?: string }[] = [];
    const log = (obj: object, msg?: string) => logged.push({ obj, msg });
    const created = (n: number) => JSON.stringify({ version: n, type: 'CREATED', value: { s: 'x' } });
    const source = kafkaSource<{ s: string }>({
      logger: { debug: log, info: log, warn: log, error: log },
      async *messages() {
        yield { partition: 3, message: { offset: '0', key: 'a', value: created(1) } };
        yield { partition: 3, message: { offset: '1', key: 'b', value: '{not json' } };
        yield { partition: 3, message: { offset: '2', key: null, value: created(1) } };
        yield { partition: 3, message: { offset: '3', key: 'c', value: created(1) } };
      },
    });
    expect((await collect(source)).map((r) => [r.offset, r.event.key])).toEqual([
      ['3:0', 'a'],
      ['3:3', 'c'],
    ]);
    expect(logged.map(({ obj }) => (obj as { offset: string }).offset)).toEqual(['3:1', '3:2']);
    expect(logged[0]).toMatchObject({ obj: { err: expect.any(SyntaxError) } });
  });

  it('iterableSource skips records up to a numeric resume offset', async () => {
    const source = iterableSource(() =>
      [1, 2, 3].map((n) => ({
        offset: String(n),
        event: { key: 'k', version: n, type: 'UPDATED' as const, value: n },
      })),
    );
    expect((await collect(source, '2')).map((r) => r.offset)).toEqual(['3']);
  });
});
