import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import { openSse, relay } from '../../api/sse.ts';
import { answerSoFar } from '../../activities/generate-answer/continuation.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnStreamKey, type StoredTurnEvent, type TurnEvent, type TurnResult } from '../../workflows/shared/contract.ts';
import { answerFromTokens, readSse } from '../helpers/sse.ts';
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

describe('relaying a stream to a client', () => {
  it('sends a token the bus wrote twice (a write resent after Redis came back) once, and a continued answer in full', async () => {
    const bus = createMemoryTurnEventBus(60);
    const stream = turnStreamKey(`relay-${Date.now()}`);
    const app = express();
    app.get('/events', (req, res) => {
      openSse(res);
      void relay(req, res, { events: bus, stream, afterId: '0', idleMs: 1000 });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      for (const e of [
        { text: 'Our ', attempt: 1, at: 0 },
        { text: 'returns ', attempt: 1, at: 4 },
        { text: 'returns ', attempt: 1, at: 4 }, // the same write, resent
        { text: 'window ', attempt: 2, at: 12 }, // the next attempt continues
        { text: 'is 30 days.', attempt: 2, at: 19 },
      ]) await bus.publish(stream, { type: 'token', data: e });
      await bus.publishTerminal(stream, { type: 'done', data: { answer: 'Our returns window is 30 days.' } as TurnResult });
      const { port } = server.address() as AddressInfo;
      const events = await readSse(await fetch(`http://127.0.0.1:${port}/events`));
      assert.equal(answerFromTokens(events), 'Our returns window is 30 days.');
      assert.equal(events.filter((e) => e.event === 'done').length, 1);
    } finally {
      server.close();
      await bus.close();
    }
  });
});
