import { ConfigError } from '../errors/config-error.js';
import type {
  Logger,
  SourceReadOptions,
  SourceRecord,
  StateEvent,
  StateEventType,
  StateSource,
} from '../types.js';

/** The part of a KafkaJS `EachMessagePayload` the mapping needs. */
export interface KafkaMessageLike {
  topic?: string;
  partition: number;
  message: {
    offset: string;
    key: Buffer | string | null;
    value: Buffer | string | null;
    headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  };
}

export interface KafkaSourceOptions<T> {
  /**
   * Yields messages from `fromOffset` on and ends once it has reached the end offsets it saw when it
   * started (e.g. a KafkaJS consumer run with `fetchTopicOffsets` as the stop condition).
   */
  messages(options: SourceReadOptions): AsyncIterable<KafkaMessageLike>;
  /** Maps one message to an event; the default reads JSON `{ version, type, value }` keyed by the message key. */
  decode?(message: KafkaMessageLike): StateEvent<T>;
  /** Told (`error`) about every message `decode` threw on; such a message is skipped. @default undefined (silent) */
  logger?: Logger;
}

const text = (v: Buffer | string | null | undefined) =>
  v == null ? undefined : typeof v === 'string' ? v : v.toString('utf8');

/**
 * Default mapping: the Kafka key is the state key, the value is JSON `{ version, type, value }`; a
 * null value (a compaction tombstone) is a DELETED whose version comes from the `version` header.
 * The offset is `<partition>:<offset>`.
 */
export function decodeKafkaMessage<T>(m: KafkaMessageLike): StateEvent<T> {
  const key = text(m.message.key);
  if (!key)
    throw new ConfigError('message.key', `Kafka message ${m.partition}:${m.message.offset} has no key`);
  const body = text(m.message.value);
  if (body === undefined) {
    const header = m.message.headers?.version;
    const version = Number(text(Array.isArray(header) ? header[0] : header));
    return { key, version, type: 'DELETED' };
  }
  const parsed = JSON.parse(body) as { version: number; type: StateEventType; value?: T };
  const event: StateEvent<T> = { key, version: Number(parsed.version), type: parsed.type };
  if (parsed.value !== undefined) event.value = parsed.value;
  return event;
}

/** A KafkaJS-style topic as rebuild source: a thin mapping from messages to `{ offset, event }`. */
export function kafkaSource<T>(options: KafkaSourceOptions<T>): StateSource<T> {
  const decode = options.decode ?? decodeKafkaMessage<T>;
  return {
    async *read(read: SourceReadOptions): AsyncGenerator<SourceRecord<T>> {
      for await (const m of options.messages(read)) {
        const offset = `${m.partition}:${m.message.offset}`;
        let event: StateEvent<T>;
        try {
          event = decode(m);
        } catch (err) {
          // One malformed record must not fail every rebuild at the same offset: skip it, say so.
          options.logger?.error(
            { err, offset, topic: m.topic },
            'state-cache kafka source skipped a message',
          );
          continue;
        }
        yield { offset, event };
      }
    },
  };
}
