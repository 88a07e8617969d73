import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of a real server that can lose one reply: the command runs, its answer never arrives. */
export interface LostReplyProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`: point a client here instead of at the server. */
  readonly url: string;
  /**
   * Cuts the connection carrying the next reply (any connection through this proxy) instead of
   * forwarding it. The server has run the command; a client that re-sends unanswered commands after
   * reconnecting (ioredis does by default) runs it a second time.
   */
  loseNextReply(): void;
  close(): Promise<void>;
}

/** Starts a `LostReplyProxy` on a free loopback port, forwarding to `port` on `host`. */
export async function startLostReplyProxy(port: number, host = '127.0.0.1'): Promise<LostReplyProxy> {
  let loseNext = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!loseNext) {
        client.write(d);
        return;
      }
      loseNext = false;
      client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const own = typeof address === 'object' && address ? address.port : 0;
  return {
    port: own,
    url: `redis://127.0.0.1:${own}`,
    loseNextReply() {
      loseNext = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
