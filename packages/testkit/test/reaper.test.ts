import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnTs, waitUntil } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/hold-nodes.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startHolder(
  mode: 'hold' | 'crash',
): Promise<{ pids: number[]; child: ReturnType<typeof spawnTs> }> {
  const child = spawnTs(fixture, [mode]);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const pids = JSON.parse(chunk.toString().split('\n')[0]!) as number[];
  return { pids, child };
}

describe('no orphan redis-server survives its test process', () => {
  it('when the test process is SIGKILLed', async () => {
    const { pids, child } = await startHolder('hold');
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await waitUntil('redis-server children to die', async () => !pids.some(alive), 5000);
  });

  it('when the test process crashes with an uncaught error', async () => {
    const { pids, child } = await startHolder('crash');
    const [code] = await once(child, 'exit');
    expect(code).not.toBe(0);
    await waitUntil('redis-server children to die', async () => !pids.some(alive), 5000);
  });
});
