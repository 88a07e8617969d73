import { waitUntil } from '@cxkit/testkit';
import { expect, it } from 'vitest';
import { AmnesiaGuard } from '../src/amnesia.js';
import {
  isLockConflictError,
  isQuorumUnavailableError,
  type LockManagerOptions,
  type NodeRecoveringEvent,
} from '../src/index.js';
import { fiveMasters, trusted } from './helpers.js';

const base = {
  maxTtlMs: 6_000,
  defaultTtlMs: 6_000,
  heartbeatIntervalMs: 1_000,
  staleAfterMs: 6_000,
  requestTimeoutMs: 500,
} satisfies Partial<LockManagerOptions>;
const { manager, clients, nodes } = fiveMasters(base, { warm: false });

it('amnesia: 2 of the 3 nodes holding a lock restart empty; a second manager is not granted it while the first holds it', async () => {
  const first = manager('us-east-1');
  const second = manager('eu-west-1');
  await trusted(first);
  const [n0, n1, , n3, n4] = nodes();
  // The holder gets the lock on exactly nodes 0, 1, 2.
  await n3!.pause();
  await n4!.pause();
  const lock = await first.acquire('amnesia', { heartbeat: false, correlationId: 'holder-1' });
  await n3!.resume();
  await n4!.resume();
  // The paused nodes run the queued acquire once resumed; drop those late grants so exactly 0, 1, 2 hold it.
  const holders = async () =>
    (await first.inspect('amnesia')).nodes.filter((n) => n.holder?.token === lock.token);
  await waitUntil('late grants on nodes 3 and 4', async () => (await holders()).length === 5);
  await Promise.all([clients[3]!.del('cxkit:locks:{amnesia}'), clients[4]!.del('cxkit:locks:{amnesia}')]);
  expect(await holders()).toHaveLength(3);

  await n0!.kill();
  await n1!.kill();
  await n0!.restart();
  await n1!.restart();

  const recovering: NodeRecoveringEvent[] = [];
  second.on('node-recovering', (e) => recovering.push(e));
  const err = await second.acquire('amnesia').catch((e: unknown) => e);
  expect(lock.signal.aborted).toBe(false);
  expect(isLockConflictError(err) || isQuorumUnavailableError(err)).toBe(true);
  expect(recovering.map((e) => e.node).sort()).toEqual(
    [`127.0.0.1:${n0!.port}`, `127.0.0.1:${n1!.port}`].sort(),
  );
  expect(recovering.every((e) => e.trustedFrom > Date.now())).toBe(true);

  const view = await second.inspect('amnesia');
  expect(
    view.nodes
      .filter((n) => !n.trusted)
      .map((n) => n.node)
      .sort(),
  ).toEqual(recovering.map((e) => e.node).sort());
  expect(view.nodes.filter((n) => n.holder?.token === lock.token)).toHaveLength(1);

  // What plain Redlock does in the same state: counting the empty nodes, it grants a second owner.
  const unguarded = manager('ap-south-1', { amnesiaGuard: false });
  const secondOwner = await unguarded.acquire('amnesia', { heartbeat: false });
  expect(lock.signal.aborted).toBe(false);
  expect(secondOwner.token).not.toBe(lock.token);
  await secondOwner.release();
  await lock.release();
});

it("a node whose clock steps forward after a restart still waits out the window on the manager's clock", async () => {
  const events: unknown[] = [];
  const guard = new AmnesiaGuard(true, 300, ['n0'], (e) => events.push(e));
  // The node restarted: its marker is new.
  expect(guard.observe(0, 'e1', 0)).toBe(false);
  expect(events).toHaveLength(1);
  // Its clock then steps forward by an hour: the same marker now looks old, yet it does not count yet.
  expect(guard.observe(0, 'e1', 3_600_000)).toBe(false);
  expect(guard.trustedNow(0)).toBe(false);
  await new Promise((resolve) => setTimeout(resolve, 320));
  expect(guard.observe(0, 'e1', 3_600_320)).toBe(true);
  // A node first seen with an old marker counts at once; a new marker starts over.
  expect(guard.observe(1, 'e9', 1_000)).toBe(true);
  expect(guard.observe(1, 'e10', 0)).toBe(false);
  expect(events).toHaveLength(2);
});
