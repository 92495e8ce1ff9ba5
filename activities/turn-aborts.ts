// Stopping a denied turn's work in flight. The input guardrail runs beside capture, detect and embedding
// (all local activities, so all in this worker process); when it denies, it aborts them here directly.
//
// Why not a workflow CancellationScope: cancelling local activities from the workflow races their
// completion inside Temporal's core (a local activity that finished but whose result is not yet delivered
// fails the workflow task with "Invalid transition in state machine"; seen with SDK 1.24). Aborting in
// the worker has no such race, and is faster: no workflow activation between the deny and the abort.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../workflows/shared/failures.ts';

const running = new Map<string, Set<AbortController>>();
// Turns denied in the last minute: work that starts after the deny is aborted at once.
const denied = new Map<string, number>();
const DENIED_MEMORY_MS = 60_000;

function turnKey(): string {
  const { workflowExecution } = Context.current().info;
  return workflowExecution ? `${workflowExecution.workflowId}/${workflowExecution.runId}` : Context.current().info.activityId;
}

/** A signal for the current activity's work: aborted when the activity is cancelled or its turn is denied. */
export function turnWorkSignal(): { signal: AbortSignal; release(): void } {
  const key = turnKey();
  const controller = new AbortController();
  if (denied.has(key)) controller.abort();
  let set = running.get(key);
  if (!set) running.set(key, (set = new Set()));
  set.add(controller);
  return {
    signal: AbortSignal.any([Context.current().cancellationSignal, controller.signal]),
    release: () => {
      set.delete(controller);
      if (set.size === 0) running.delete(key);
    },
  };
}

/** Aborts every running piece of work of the current activity's turn (the caller denied it). */
export function abortTurnWork(): void {
  const key = turnKey();
  const now = Date.now();
  denied.set(key, now);
  for (const [k, at] of denied) if (now - at > DENIED_MEMORY_MS) denied.delete(k);
  for (const c of running.get(key) ?? []) c.abort();
}

/** Throws when the current activity's turn was denied: the work must end, not fall back. */
export function throwIfTurnAborted(signal: AbortSignal): void {
  if (signal.aborted && !Context.current().cancellationSignal.aborted) {
    throw ApplicationFailure.nonRetryable("the turn's work was stopped: the input guardrail denied it, or the cache answered it", FAILURE_TYPES.turnWorkAborted);
  }
}
