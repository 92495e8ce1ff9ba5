// What an answer attempt finds on the turn's stream when it claims it: the text earlier attempts already
// streamed to the user (it continues from there), the events already published (not published twice), and
// a `done` an earlier attempt delivered before it was given up for dead (nothing left to do).
import { isTerminal, type StoredTurnEvent, type TurnEvent, type TurnResult } from '../../workflows/shared/contract.ts';

/** The stream as the claiming attempt found it. */
export interface AnswerSoFar {
  /** Every token's text, in order: what the client holds (tokens are never taken back). */
  text: string;
  /** The `done` an earlier attempt published. */
  delivered?: TurnResult;
  /** Whether an event with this type and data is on the stream already. */
  has(event: TurnEvent): boolean;
}

/** Reads the events of a claimed stream. */
export function answerSoFar(events: StoredTurnEvent[]): AnswerSoFar {
  let text = '';
  let delivered: TurnResult | undefined;
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type === 'token') text += (e.data as { text: string }).text;
    else seen.add(`${e.type}\u0000${JSON.stringify(e.data)}`);
    if (isTerminal(e) && e.type === 'done') delivered = e.data as TurnResult;
  }
  return {
    text,
    ...(delivered ? { delivered } : {}),
    has: (event) => seen.has(`${event.type}\u0000${JSON.stringify(event.data)}`),
  };
}
