import type { TurnEvent, TurnResult } from '../workflows/shared/contract.ts';
import type { ActivityDeps } from './deps.ts';

/** Splits a cached answer into word-sized pieces so it streams like a generated one. */
export function chunkAnswer(answer: string, wordsPerChunk = 4): string[] {
  const words = answer.match(/\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) chunks.push(words.slice(i, i + wordsPerChunk).join(''));
  return chunks;
}

/** Activities that write the turn's event stream on the workflow's behalf. */
export function createTurnEventActivities(deps: Pick<ActivityDeps, 'events'>) {
  return {
    /** Appends events (turn announcement, step changes) to the turn's stream. */
    async emitTurnEvents(input: { stream: string; events: TurnEvent[] }): Promise<void> {
      // One connection, so the order of these calls is the order in the stream.
      await Promise.all(input.events.map((e) => deps.events.publish(input.stream, e)));
    },

    /** Streams an already-known answer (cache hit, canned fallback) as tokens, then the one `done`. */
    async finishTurn(input: { stream: string; result: TurnResult; streamAnswer: boolean }): Promise<{ published: boolean }> {
      if (input.streamAnswer) {
        await Promise.all(chunkAnswer(input.result.answer).map((text) => deps.events.publish(input.stream, { type: 'token', data: { text } })));
      }
      const id = await deps.events.publishTerminal(input.stream, { type: 'done', data: input.result });
      return { published: id !== null };
    },

    /** Ends the stream with an `error` (only when no `done` could be produced). */
    async failTurn(input: { stream: string; code: string; message: string }): Promise<void> {
      await deps.events.publishTerminal(input.stream, { type: 'error', data: { code: input.code, message: input.message } });
    },
  };
}
