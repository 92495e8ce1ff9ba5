// The record of turns the API answered from a cache. Such a turn needs no step of its own after the lookup
// (the API streamed the answer and stored the turn), so it is not worth a workflow each (a workflow start
// costs the Temporal server and the worker tens of milliseconds of CPU, several times the hit itself).
// Each API process batches its hits per tenant and cache for up to HIT_RECORD_WINDOW_MS and records the
// batch here: the Web UI lists them (`WorkflowType = 'recordCachedTurns' AND TenantId = 'acme'`), with
// every turn's id, session, intent and time in the input; `GET /v1/turns/:id` serves them from the app store.
import type { CachedTurnsRecord } from './shared/contract.ts';

/** Records a batch of cached turns; returns how many. */
export async function recordCachedTurns(record: CachedTurnsRecord): Promise<number> {
  return record.turns.length;
}
