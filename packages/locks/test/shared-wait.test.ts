import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { NodeConnection } from '../src/client.js';
import { SharedWait } from '../src/shared-wait.js';

// The connection count behind "a WAIT answered on another connection than its write's does not count"
// (see replica-acks.test.ts for the real server). Redis 7.0 answers a WAIT that ioredis sends again on
// the new connection by waiting (its offset moved on), so the case where it would answer at once, the
// one this count guards against, is driven here through the client's own `ready` events.

/** A client as SharedWait sees it: its status and its `ready` events (no command is sent here). */
function fakeClient(): NodeConnection & EventEmitter & { status: string } {
  return Object.assign(new EventEmitter(), { status: 'ready' }) as unknown as NodeConnection &
    EventEmitter & { status: string };
}

describe('SharedWait connection count', () => {
  it('a reply after a reconnect does not match a mark taken before it, for every wait on the client', () => {
    const client = fakeClient();
    const first = new SharedWait(client, 1, 100);
    const before = first.connection();
    client.emit('ready');
    expect(first.still(before)).toBe(false);
    // Created after that reconnect, on the same client: it counts the next one too.
    const second = new SharedWait(client, 1, 100);
    const mark = second.connection();
    expect(second.still(mark)).toBe(true);
    expect(first.still(mark)).toBe(true);
    client.emit('ready');
    expect(second.still(mark)).toBe(false);
    expect(first.still(mark)).toBe(false);
    // One listener for the client, however many waits use it.
    expect(client.listenerCount('ready')).toBe(1);
  });

  it('a write sent while the client reconnects goes out on the next connection', () => {
    const client = fakeClient();
    const wait = new SharedWait(client, 1, 100);
    client.status = 'reconnecting';
    const mark = wait.connection();
    expect(wait.still(mark)).toBe(false);
    client.status = 'ready';
    client.emit('ready');
    expect(wait.still(mark)).toBe(true);
  });

  it('after close() nothing counts as acknowledged', () => {
    const client = fakeClient();
    const wait = new SharedWait(client, 1, 100);
    const mark = wait.connection();
    wait.close();
    expect(wait.still(mark)).toBe(false);
    expect(new SharedWait(client, 1, 100).still(mark)).toBe(true);
  });
});
