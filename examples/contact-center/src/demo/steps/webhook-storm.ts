import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '@cxkit/testkit';
import { call } from '../api-client.js';
import { mapLimit } from '../concurrency.js';
import type { DemoEnvironment } from '../environment.js';
import { genesysAcw } from '../payloads.js';
import { type Log, type StepResult, verdict } from '../step-result.js';

/**
 * Step 1 (seed 001 edge case 2, seed 003): the platform flushes its retry queue after a blip and one
 * after-call-work event arrives `deliveries` times, spread over both regions. The sender behaves like the
 * platform: it honours 429 Retry-After and redelivers on 503.
 */
export async function webhookStorm(env: DemoEnvironment, deliveries: number, log: Log): Promise<StepResult> {
  const event = genesysAcw();
  const regions = [env.regionA, env.regionB];
  const counts = { processed: 0, duplicate: 0, rateLimited: 0, inProgress: 0, unexpected: 0 };
  const notesBefore = env.cloud.stats().notesCreated;
  const started = performance.now();
  await mapLimit(
    Array.from({ length: deliveries }, (_, i) => i),
    50,
    async (i) => {
      const region = regions[i % regions.length]!;
      for (let attempt = 0; attempt < 100; attempt++) {
        const res = await call(region.url, 'POST', '/webhooks/genesys', { token: env.token, body: event });
        if (res.status === 429 || res.status === 503) {
          if (res.status === 429) counts.rateLimited++;
          else counts.inProgress++;
          const retryAfter = Number(res.headers.get('retry-after') ?? '1');
          await sleep(retryAfter * 1000 * (0.25 + Math.random() * 0.75));
          continue;
        }
        if (res.status === 200 && res.body.status === 'processed') counts.processed++;
        else if (res.status === 200 && res.body.status === 'duplicate') counts.duplicate++;
        else counts.unexpected++;
        return;
      }
      counts.unexpected++;
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const { rows } = await env.pool.query<{ n: string; synced: string }>(
    'SELECT count(*) AS n, count(synced_at) AS synced FROM crm_contact_notes WHERE source_event_id = $1',
    [event.id],
  );
  const crmRows = Number(rows[0]?.n ?? 0);
  // The CRM cloud call happens in the worker pool, after the webhooks were answered.
  await waitUntil(
    'CRM sync of the note',
    async () => {
      const r = await env.pool.query(
        'SELECT 1 FROM crm_contact_notes WHERE source_event_id = $1 AND synced_at IS NOT NULL',
        [event.id],
      );
      return r.rows.length === 1;
    },
    30_000,
    100,
  ).catch(() => {});
  const cloudNotes = env.cloud.stats().notesCreated - notesBefore;
  log(
    `  ${deliveries} deliveries in ${seconds}s: ${counts.processed} processed, ${counts.duplicate} duplicates, ` +
      `${counts.rateLimited} answered 429 and retried, ${counts.inProgress} answered 503 (in progress) and retried`,
  );
  return {
    step: '1. webhook storm',
    expected: `${deliveries} identical deliveries -> 1 CRM row, 1 CRM cloud note`,
    observed: `${crmRows} row(s), ${cloudNotes} cloud note(s), ${counts.processed} processed / ${counts.duplicate} duplicate, ${counts.rateLimited}x429 retried`,
    outcome: verdict(
      crmRows === 1 &&
        cloudNotes === 1 &&
        counts.processed === 1 &&
        counts.duplicate === deliveries - 1 &&
        counts.unexpected === 0,
    ),
  };
}
