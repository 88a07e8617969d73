import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Emitter } from '../src/index.js';

interface Events {
  ping: { n: number };
  pong: { s: string };
}

describe('Emitter', () => {
  it('delivers typed payloads to the listeners of that event only, in subscription order', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    events.on('ping', (p) => seen.push(`a${p.n}`));
    events.on('ping', (p) => seen.push(`b${p.n}`));
    events.on('pong', (p) => seen.push(`pong ${p.s}`));
    events.emit('ping', { n: 1 });
    expect(seen).toEqual(['a1', 'b1']);
  });

  it('unsubscribes by call, by dispose() and by `using`', () => {
    const events = new Emitter<Events>();
    let count = 0;
    const byCall = events.on('ping', () => count++);
    const byDispose = events.on('ping', () => count++);
    {
      using _scoped = events.on('ping', () => count++);
      events.emit('ping', { n: 1 });
    }
    expect(count).toBe(3);
    byCall();
    events.emit('ping', { n: 2 });
    expect(count).toBe(4);
    byDispose.dispose();
    byDispose(); // idempotent
    events.emit('ping', { n: 3 });
    expect(count).toBe(4);
    expect(events.has('ping')).toBe(false);
  });

  it('reports a throwing listener with its event and still runs the others', () => {
    const errors: [unknown, string][] = [];
    const events = new Emitter<Events>({
      onListenerError: (err, event) => errors.push([err, String(event)]),
    });
    const boom = new Error('listener bug');
    let after = 0;
    events.on('pong', () => {
      throw boom;
    });
    events.on('pong', () => after++);
    expect(() => events.emit('pong', { s: 'x' })).not.toThrow();
    expect(after).toBe(1);
    expect(errors).toEqual([[boom, 'pong']]);
  });

  it('swallows listener errors when no callback is given', () => {
    const events = new Emitter<Events>();
    events.on('ping', () => {
      throw new Error('ignored');
    });
    expect(() => events.emit('ping', { n: 1 })).not.toThrow();
  });

  it('emits to a snapshot: unsubscribing during an emit does not skip anyone for that event', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    let second: (() => void) | undefined;
    events.on('ping', () => {
      seen.push('first');
      second?.();
    });
    second = events.on('ping', () => seen.push('second'));
    events.emit('ping', { n: 1 });
    events.emit('ping', { n: 2 });
    expect(seen).toEqual(['first', 'second', 'first']);
  });

  it('mirrors every event to node:diagnostics_channel under the prefix, and only with one', () => {
    const prefixed = new Emitter<Events>({ diagnosticsPrefix: 'cxkit:internal-test:' });
    const plain = new Emitter<Events>();
    const published: unknown[] = [];
    const onMessage = (message: unknown) => published.push(message);
    expect(prefixed.has('ping')).toBe(false);
    diagnostics.subscribe('cxkit:internal-test:ping', onMessage);
    try {
      expect(prefixed.has('ping')).toBe(true);
      expect(plain.has('ping')).toBe(false);
      prefixed.emit('ping', { n: 7 });
      plain.emit('ping', { n: 8 });
      prefixed.emit('pong', { s: 'not on the ping channel' });
    } finally {
      diagnostics.unsubscribe('cxkit:internal-test:ping', onMessage);
    }
    expect(published).toEqual([{ n: 7 }]);
  });

  it('caps listeners per event with a RangeError naming the event', () => {
    const events = new Emitter<Events>({ maxListeners: 2 });
    events.on('ping', () => {});
    const off = events.on('ping', () => {});
    expect(() => events.on('ping', () => {})).toThrow(
      new RangeError('more than 2 listeners for "ping" (a leak?)'),
    );
    events.on('pong', () => {}); // the cap is per event
    off();
    expect(() => events.on('ping', () => {})).not.toThrow();
  });

  it('clear() removes every listener', () => {
    const events = new Emitter<Events>();
    let count = 0;
    events.on('ping', () => count++);
    events.on('pong', () => count++);
    events.clear();
    events.emit('ping', { n: 1 });
    events.emit('pong', { s: 'x' });
    expect(count).toBe(0);
    expect(events.has('ping') || events.has('pong')).toBe(false);
  });
});
