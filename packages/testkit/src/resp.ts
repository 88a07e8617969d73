import { createConnection } from 'node:net';

/**
 * Sends one command over a fresh connection and returns the reply as text. Only what probes need:
 * simple strings, errors (thrown), integers and bulk strings. Used instead of a full client so a
 * probe never queues, reconnects or logs: it answers or it times out.
 */
export function redisCommand(
  port: number,
  args: string[],
  timeoutMs = 1000,
  host = '127.0.0.1',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host });
    let buffer = '';
    const timer = setTimeout(
      () => finish(new Error(`redis ${host}:${port} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (err: Error | null, value?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value ?? '');
    };
    socket.setEncoding('utf8');
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) return;
      const type = buffer[0];
      const line = buffer.slice(1, lineEnd);
      if (type === '+' || type === ':') return finish(null, line);
      if (type === '-') return finish(new Error(line));
      if (type === '$') {
        const length = Number(line);
        if (length < 0) return finish(null, '');
        const body = Buffer.from(buffer.slice(lineEnd + 2), 'utf8');
        if (body.length >= length) finish(null, body.subarray(0, length).toString('utf8'));
        return;
      }
      finish(new Error(`unsupported reply type ${type}`));
    });
  });
}

/** Parses `INFO` output into a flat map. */
export function parseInfo(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
