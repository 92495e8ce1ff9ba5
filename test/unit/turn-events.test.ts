import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerSoFar } from '../../activities/generate-answer/continuation.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import type { StoredTurnEvent, TurnEvent, TurnResult } from '../../workflows/shared/contract.ts';
import { turnEventBusContract } from '../helpers/contracts.ts';

turnEventBusContract('in-process', () => createMemoryTurnEventBus(3600));

describe('what an answer attempt finds when it claims the stream', () => {
  const step = (status: string) => ({ type: 'step', data: { name: 'understand', status } }) as TurnEvent;
  const stored = (events: TurnEvent[]) => events.map((e, i) => ({ ...e, id: `0-${i + 1}` }) as StoredTurnEvent);

  it('joins the tokens earlier attempts streamed, knows the steps already published, and finds a delivered done', () => {
    const so = answerSoFar(stored([step('completed'), { type: 'token', data: { text: 'Our returns ' } }, { type: 'token', data: { text: 'window is' } }]));
    assert.equal(so.text, 'Our returns window is');
    assert.equal(so.has(step('completed')), true);
    assert.equal(so.has(step('failed')), false);
    assert.equal(so.delivered, undefined);
    const done = { answer: 'Our returns window is 30 days.' } as TurnResult;
    assert.equal(answerSoFar(stored([{ type: 'token', data: { text: 'x' } }, { type: 'done', data: done }])).delivered, done);
  });

  it('finds nothing on a new stream', () => {
    const so = answerSoFar([]);
    assert.equal(so.text, '');
    assert.equal(so.delivered, undefined);
  });
});
