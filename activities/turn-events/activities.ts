import type { GateVerdict, TurnEvent, TurnResult } from '../../workflows/shared/contract.ts';
import type { ActivityDeps } from '../deps.ts';
import { abortTurnWork } from '../turn-aborts.ts';
import { answerTokens } from './answer-chunks.ts';
import type { TurnEventBus } from './bus.ts';

export { answerTokens, chunkAnswer } from './answer-chunks.ts';

/** Appends events in order (one connection keeps the order of calls). */
export async function publishAll(events: Pick<TurnEventBus, 'publish'>, stream: string, list: TurnEvent[] | undefined): Promise<void> {
  if (list?.length) await Promise.all(list.map((e) => events.publish(stream, e)));
}

/** Activities that write the turn's event stream on the workflow's behalf. */
export function createTurnEventActivities(deps: { events: Pick<TurnEventBus, 'publish' | 'publishTerminal'> } & Pick<ActivityDeps, 'metrics'>) {
  /** Counts the turn in this process's metrics; only the call that wrote the terminal event does, so a retry never counts twice. */
  const record = (tenantId: string | undefined, result: TurnResult) => {
    try {
      // Turns started before `tenantId` was passed carry none; the workflow id is not parsed for it.
      deps.metrics?.recordTurn(tenantId ?? 'unknown', result);
    } catch {
      // Metrics never fail a turn.
    }
  };

  return {
    /** Appends events (step changes) to the turn's stream. */
    async emitTurnEvents(input: { stream: string; events: TurnEvent[] }): Promise<void> {
      await publishAll(deps.events, input.stream, input.events);
    },

    /** The workflow's verdict on a speculative answer, on the turn's gate stream (the held answer waits on it). */
    async decideSpeculation(input: { gate: string; verdict: GateVerdict }): Promise<void> {
      await deps.events.publish(input.gate, { type: 'gate', data: input.verdict });
    },

    /**
     * Ends the stream: queued step events, the answer as tokens when it was not streamed already (cache
     * hit, canned answer), then the one terminal event: `done`, or `error` when the result carries one.
     * The turn is counted in the metrics when that terminal event is written (`tenantId`: the metrics' label).
     */
    async finishTurn(input: { stream: string; result: TurnResult; streamAnswer: boolean; progress?: TurnEvent[]; tenantId?: string; stopWork?: boolean }): Promise<{ published: boolean }> {
      // An early semantic hit: the capture and detect calls still running for this turn are not needed any more.
      if (input.stopWork) abortTurnWork();
      await publishAll(deps.events, input.stream, input.progress);
      const { result } = input;
      if (result.error) {
        const id = await deps.events.publishTerminal(input.stream, { type: 'error', data: result.error });
        if (id !== null) record(input.tenantId, result);
        return { published: id !== null };
      }
      if (input.streamAnswer) {
        await Promise.all(answerTokens(result.answer).map((token) => deps.events.publish(input.stream, token)));
      }
      const id = await deps.events.publishTerminal(input.stream, { type: 'done', data: result });
      if (id !== null) record(input.tenantId, result);
      return { published: id !== null };
    },
  };
}
