import { quickStart } from '@cxkit/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const qs = quickStart(import.meta.url, { postgres: true });
beforeAll(() => qs.start(), 30_000);
afterAll(() => qs.stop());

/** Runs the quick start; returns its exit code, output and, per delivery, whether it ran and its response. */
async function run() {
  const { code, out } = await qs.run();
  const deliveries = [...out.matchAll(/^delivery (\d): (ran the handler|replayed) (\{.*\})$/gm)].map((m) => ({
    delivery: Number(m[1]),
    outcome: m[2],
    response: JSON.parse(m[3]!),
  }));
  return { code, out, deliveries, outcomes: deliveries.map((d) => `${d.delivery} ${d.outcome}`) };
}

describe('README quick start', () => {
  it('is the code of test/fixtures/quickstart.ts', () => {
    expect(qs.block()).toBe(qs.fixtureText());
  });

  it('runs against a real Postgres: the handler runs once, every redelivery replays its response', async () => {
    const first = await run();
    expect(first.code, first.out).toBe(0);
    expect(first.outcomes, first.out).toEqual(['1 ran the handler', '2 replayed']);
    // The fake CRM returns a new record id on every call, so one id everywhere means one run.
    const id = first.deliveries[0]!.response.body.id;
    expect(id).toMatch(/^rec-[0-9a-f-]{36}$/);
    const stored = { status: 200, headers: { 'x-crm-id': id }, body: { id } };
    // Another process (a fresh LRU front) replays the same response from Postgres.
    const second = await run();
    expect(second.code, second.out).toBe(0);
    expect(second.outcomes, second.out).toEqual(['1 replayed', '2 replayed']);
    for (const d of [...first.deliveries, ...second.deliveries]) expect(d.response).toEqual(stored);
    const client = new pg.Client({ connectionString: qs.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM idempotency_keys');
      expect(rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  }, 30_000);
});
