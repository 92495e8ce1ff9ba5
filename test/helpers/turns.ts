// Running chatTurn directly on the test stack and reading its stream, for integration tests.
import { randomUUID } from 'node:crypto';
import type { StoredTurnEvent, TurnResult } from '../../workflows/shared/contract.ts';
import { TURN_WORKFLOW_TASK_TIMEOUT, turnStreamKey, turnWorkflowId } from '../../workflows/shared/contract.ts';
import { SessionIdKey, TenantIdKey } from '../../workflows/shared/search-attributes.ts';
import type { TestStack } from './stack.ts';

/** A finished turn: its result, its stream, its workflow id. */
export interface RanTurn {
  result: TurnResult;
  events: StoredTurnEvent[];
  workflowId: string;
  sessionId: string;
}

/** Runs one turn to completion on `taskQueue` (default: the stack's worker) and reads its whole stream. */
export async function runTurn(
  stack: TestStack,
  message: string,
  opts: { sessionId?: string; tenantId?: string; userId?: string; taskQueue?: string; turnId?: string } = {},
): Promise<RanTurn> {
  const turnId = opts.turnId ?? randomUUID();
  const tenantId = opts.tenantId ?? 'acme';
  const sessionId = opts.sessionId ?? `s-${randomUUID().slice(0, 8)}`;
  const workflowId = turnWorkflowId(tenantId, turnId);
  const result = (await stack.client.workflow.execute('chatTurn', {
    taskQueue: opts.taskQueue ?? stack.config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ turnId, tenantId, sessionId, message, receivedAt: Date.now(), ...(opts.userId ? { userId: opts.userId } : {}) }],
    workflowExecutionTimeout: '2 minutes',
    workflowTaskTimeout: TURN_WORKFLOW_TASK_TIMEOUT,
    // As the API starts turns.
    typedSearchAttributes: [
      { key: TenantIdKey, value: tenantId },
      { key: SessionIdKey, value: sessionId },
    ],
  })) as TurnResult;
  return { result, events: await streamEvents(stack, workflowId), workflowId, sessionId };
}

/** Every event of a turn's stream up to its terminal event. */
export async function streamEvents(stack: TestStack, workflowId: string): Promise<StoredTurnEvent[]> {
  const ac = new AbortController();
  const events: StoredTurnEvent[] = [];
  for await (const item of stack.messaging.events.subscribe(turnStreamKey(workflowId), '0', { signal: ac.signal, idleMs: 500 })) {
    if (item.type === 'idle') break;
    events.push(item as StoredTurnEvent);
    if (item.type === 'done' || item.type === 'error') break;
  }
  ac.abort();
  return events;
}

/** The inputs the workflow gave an activity type, from its history (scheduled and local-activity markers alike). */
export async function activityInputs(stack: TestStack, workflowId: string, activityType: string): Promise<unknown[]> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const inputs: unknown[] = [];
  for (const e of history.events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === activityType) {
      // History holds the payloads encrypted: decode them with the stack's codec, as a worker does.
      const [payload] = await stack.codec.decode([scheduled.input!.payloads![0]!]);
      inputs.push(defaultPayloadConverter.fromPayload(payload!));
    }
  }
  return inputs;
}
