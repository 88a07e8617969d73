import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/coalesce.js';
import { deferred } from './helpers.js';

/** A coalescer whose statements are recorded and answered by the test. */
function recorder() {
  const sent: { items: number[]; answer: ReturnType<typeof deferred<void>> }[] = [];
  const send = (items: number[]) => {
    const answer = deferred<void>();
    sent.push({ items, answer });
    return answer.promise.then(() => items.map((i) => i * 10));
  };
  const coalescer = new Coalescer<number, number>(
    64,
    async (i) => (await send([i]))[0]!,
    (items) => send(items),
  );
  return { sent, coalescer };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Calls `coalescer` with `a` and with `b` from two callbacks of one check phase, as replies read from
 * two connections in one poll phase would, and waits until whatever they flush has been sent.
 */
async function fromTwoCallbacks(coalescer: Coalescer<number, number>, a: number, b: number) {
  const calls: Promise<number>[] = [];
  setImmediate(() => calls.push(coalescer.call(a)));
  setImmediate(() => calls.push(coalescer.call(b)));
  await nextTurn();
  await nextTurn();
  return Promise.all(calls);
}

describe('Coalescer', () => {
  it('a lone call goes out in its own turn, without waiting for the event loop', async () => {
    const { sent, coalescer } = recorder();
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    const result = coalescer.call(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(sent.map((s) => s.items)).toEqual([[1]]);
    expect(immediateRan).toBe(false);
    sent[0]!.answer.resolve();
    expect(await result).toBe(10);
  });

  it('calls started together share one statement and each gets its own result', async () => {
    const { sent, coalescer } = recorder();
    const results = Promise.all([1, 2, 3].map((i) => coalescer.call(i)));
    await nextTurn();
    expect(sent.map((s) => s.items)).toEqual([[1, 2, 3]]);
    sent[0]!.answer.resolve();
    expect(await results).toEqual([10, 20, 30]);
  });

  it('while a statement is on its way, calls from separate callbacks of one turn share the next one', async () => {
    const { sent, coalescer } = recorder();
    const first = coalescer.call(1);
    await nextTurn();
    const later = fromTwoCallbacks(coalescer, 2, 3);
    await nextTurn();
    await nextTurn();
    expect(sent.map((s) => s.items)).toEqual([[1], [2, 3]]);
    for (const s of sent) s.answer.resolve();
    expect(await first).toBe(10);
    expect(await later).toEqual([20, 30]);

    // Nothing on its way any more: the same two callbacks send a statement each, at once.
    await nextTurn();
    const alone = fromTwoCallbacks(coalescer, 4, 5);
    await nextTurn();
    await nextTurn();
    expect(sent.slice(2).map((s) => s.items)).toEqual([[4], [5]]);
    for (const s of sent.slice(2)) s.answer.resolve();
    expect(await alone).toEqual([40, 50]);
  });
});
