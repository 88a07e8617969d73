import { appendAgentState } from '../db/agent-outbox.js';
import { insertWebhookNote } from '../db/crm-notes.js';
import type { RegionContext } from '../services/context.js';
import type { PlatformEvent } from './normalize.js';

export type HandledEvent =
  | { kind: 'note'; note_id: string | null; queued: boolean }
  | { kind: 'agent-state'; agent_id: string; version: number; outcome: string }
  | { kind: 'ignored'; topic: string };

/**
 * Runs once per event id (the deduplicator's winner). Only fast, local work happens here: one Postgres
 * insert and one Redis write. The CRM cloud call is handed to the worker pool through the queue.
 */
export async function handleEvent(ctx: RegionContext, event: PlatformEvent): Promise<HandledEvent> {
  switch (event.kind) {
    case 'note': {
      const { noteId, synced } = await insertWebhookNote(
        ctx.db,
        { ...event.note, region: ctx.region },
        event.source,
        event.eventId,
      );
      // A note already there but not synced was written by a run that failed before (or while) enqueueing
      // it: enqueue it now. The job id (event id) and the cloud's idempotency key keep it to one CRM note.
      const queued = noteId !== undefined && !synced;
      if (queued) {
        await ctx.crmSync.enqueue({
          noteId,
          source: event.source,
          eventId: event.eventId,
          contactId: event.note.contactId,
          notes: event.note.notes,
        });
      }
      return { kind: 'note', note_id: noteId ?? null, queued };
    }
    case 'agent-state': {
      // Durable first (the outbox is what the cache rebuilds from), then the live apply.
      await appendAgentState(ctx.db, event.state, event.version, `${event.source}:${event.eventId}`);
      const applied = await ctx.stateCache.apply({
        key: event.state.agent_id,
        version: event.version,
        type: 'UPDATED',
        value: event.state,
      });
      return {
        kind: 'agent-state',
        agent_id: event.state.agent_id,
        version: event.version,
        outcome: applied.outcome,
      };
    }
    case 'ignored':
      return { kind: 'ignored', topic: event.topic };
  }
}
