import { createServer } from 'node:net';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/**
 * A free loopback port in [20000, 30000) whose +10000 companion (the Redis Cluster bus port) is free
 * too. Ports handed out by this process are never handed out again, so parallel starts do not collide.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (taken.has(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 10000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found in [20000, 30000) after 200 attempts');
}
