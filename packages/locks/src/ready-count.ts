import type { NodeConnection } from './client.js';

/**
 * How many connections each client has made ready, one counter per client object shared by every
 * manager on it: one `ready` listener per client however many managers use it (Node warns about a
 * leak past 10 listeners). It lives as long as the client. After a reconnect ioredis sends the
 * commands that had no answer again, so a change of this count marks calls that may run twice or out
 * of the order they were written.
 */
const readyCounts = new WeakMap<NodeConnection, { ready: number }>();

export function readyCountOf(client: NodeConnection): { ready: number } {
  const known = readyCounts.get(client);
  if (known) return known;
  const count = { ready: 0 };
  client.on?.('ready', () => {
    count.ready++;
  });
  readyCounts.set(client, count);
  return count;
}
