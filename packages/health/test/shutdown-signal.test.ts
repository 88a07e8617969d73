import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnTs, waitUntil } from '@cxkit/testkit';
import { expect, it } from 'vitest';

it('a real SIGTERM: readiness 503 while draining, in-flight request completes, resources close in order, exit 0', async () => {
  const child = spawnTs(fileURLToPath(new URL('./fixtures/shutdown-pod.ts', import.meta.url)));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  try {
    await waitUntil('pod listening', async () => /listening \d+/.test(out), 30_000);
    const base = `http://127.0.0.1:${/listening (\d+)/.exec(out)![1]}`;
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    const work = fetch(`${base}/work`).then((r) => r.text());
    await waitUntil('request in flight', async () => out.includes('work started'), 10_000, 10);
    child.kill('SIGTERM');
    await waitUntil('draining', async () => out.includes('phase draining'), 10_000, 10);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toBe('draining: SIGTERM');
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect(await work).toBe('done');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const lines = out.split('\n').filter((l) => /^(phase|work done|store closed)/.test(l));
    expect(lines).toEqual([
      'phase draining SIGTERM',
      'phase waiting SIGTERM',
      'work done',
      'phase closing SIGTERM',
      'store closed',
      'phase closed SIGTERM',
    ]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
