import { randomBytes } from 'node:crypto';
import { claimBatch, claimOne } from './claim-batch.js';
import { type DedupCore, inProgressTtlMs } from './core.js';
import { DedupMisconfiguredError } from './errors/index.js';
import { runScript } from './scripts.js';

const PROBE_TTL_MS = 10_000;

function expect(ok: boolean, check: string, detail: string): void {
  if (!ok) throw new DedupMisconfiguredError(check, detail);
}

/** The client's own conditional set with expiry: a second SET NX must lose and the key must expire. */
async function checkConditionalSet(core: DedupCore, key: string): Promise<void> {
  const { redis } = core;
  try {
    const first = await redis.set(key, 'first', 'PX', PROBE_TTL_MS, 'NX');
    expect(first === 'OK', 'set-nx', `first SET NX PX answered ${String(first)}, expected OK`);
    const second = await redis.set(key, 'second', 'PX', PROBE_TTL_MS, 'NX');
    expect(
      second === null,
      'set-nx',
      `second SET NX on an existing key answered ${String(second)}, expected nil`,
    );
    const value = await redis.get(key);
    expect(value === 'first', 'set-nx', `SET NX overwrote the key (now ${String(value)})`);
    const ttl = await redis.pttl(key);
    expect(ttl > 0 && ttl <= PROBE_TTL_MS, 'set-px', `key set with PX ${PROBE_TTL_MS} has PTTL ${ttl}`);
  } finally {
    await redis.del(key);
  }
}

/** The claim script itself: first claim wins, a second sees it in progress, the record expires. */
async function checkClaimScript(core: DedupCore, id: string): Promise<void> {
  const { redis, keys, options } = core;
  const key = keys.key(id);
  try {
    // Both claim scripts: the single-id one wins, the batch one must then see the record in progress.
    const first = await claimOne(core, id);
    const second = (await claimBatch(core, [id]))[0];
    const tag = (reply: unknown) => (Array.isArray(reply) ? reply[0] : reply);
    expect(tag(first) === 1, 'claim-script', `first claim answered ${JSON.stringify(first)}`);
    expect(tag(second) === 2, 'claim-script', `second claim of a held id answered ${JSON.stringify(second)}`);
    const ttl = await redis.pttl(key);
    const limit = inProgressTtlMs(options.leaseMs);
    expect(ttl > 0 && ttl <= limit, 'claim-expiry', `claimed record has PTTL ${ttl}, expected 1..${limit}`);
    const token = (first as unknown[])[1] as string;
    const released = await runScript(redis, 'release', key, [token, `${keys.channel}:verify`, options.owner]);
    expect(released === 1, 'release-script', `compare-and-delete answered ${String(released)}`);
  } finally {
    await redis.del(key);
  }
}

/**
 * Startup self-check: proves on the live connection that conditional sets with expiry are honoured,
 * so a proxy, mock or wrapper that drops NX/PX fails loudly instead of letting every duplicate through.
 */
export async function verifyClient(core: DedupCore): Promise<void> {
  const probe = `__cxkit_verify:${randomBytes(6).toString('hex')}`;
  await checkConditionalSet(core, core.keys.key(`${probe}:set`));
  await checkClaimScript(core, `${probe}:claim`);
}
