import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createMemoryTurnEventBus, createRedisTurnEventBus, type BusItem, type TurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnStreamKey, type TurnResult, ZERO_USAGE } from '../../workflows/shared/contract.ts';

const DONE: TurnResult = {
  turnId: 't',
  workflowId: 'w',
  answer: 'Hello',
  cache: 'none',
  intent: 'small_talk',
  complexity: 'trivial',
  slots: {},
  usage: ZERO_USAGE,
  costUsd: 0,
  timings: { totalMs: 1, ttftMs: 1, steps: {} },
  fallbacks: [],
};

async function collect(bus: TurnEventBus, stream: string, afterId: string, until: (i: BusItem) => boolean) {
  const ac = new AbortController();
  const items: BusItem[] = [];
  for await (const item of bus.subscribe(stream, afterId, { signal: ac.signal, idleMs: 200 })) {
    items.push(item);
    if (until(item)) break;
  }
  ac.abort();
  return items;
}

function contract(name: string, make: () => TurnEventBus) {
  describe(`${name} turn event bus`, () => {
    it('delivers events in order, resumes after an id, and keeps exactly one terminal event', async () => {
      const bus = make();
      const stream = turnStreamKey(`test-${randomUUID()}`);
      assert.equal(await bus.exists(stream), false);
      const reading = collect(bus, stream, '0', (i) => i.type === 'done');
      await bus.publish(stream, { type: 'turn', data: { turnId: 't', workflowId: 'w' } });
      for (const text of ['Hel', 'lo']) await bus.publish(stream, { type: 'token', data: { text } });
      assert.ok(await bus.publishTerminal(stream, { type: 'done', data: DONE }));
      assert.equal(await bus.publishTerminal(stream, { type: 'error', data: { code: 'x', message: 'late' } }), null);
      const items = (await reading).filter((i) => i.type !== 'idle') as (BusItem & { id: string })[];
      assert.deepEqual(items.map((i) => i.type), ['turn', 'token', 'token', 'done']);
      const resumed = await collect(bus, stream, items[1]!.id, (i) => i.type === 'done');
      assert.deepEqual(resumed.map((i) => i.type), ['token', 'done']);
      await bus.close();
    });

    it('yields idle while nothing happens', async () => {
      const bus = make();
      const stream = turnStreamKey(`test-${randomUUID()}`);
      await bus.publish(stream, { type: 'turn', data: { turnId: 't', workflowId: 'w' } });
      const items = await collect(bus, stream, '0', (i) => i.type === 'idle');
      assert.deepEqual(items.map((i) => i.type), ['turn', 'idle']);
      await bus.close();
    });

    // A reader blocked waiting for events (a client that hung up mid-turn) must end when its signal aborts,
    // not at its next idle period: with a 60 s idle period, only the abort can end this loop in time.
    it('ends a blocked read when its signal aborts', { timeout: 10_000 }, async () => {
      const bus = make();
      const stream = turnStreamKey(`test-${randomUUID()}`);
      await bus.publish(stream, { type: 'turn', data: { turnId: 't', workflowId: 'w' } });
      const ac = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const item of bus.subscribe(stream, '0', { signal: ac.signal, idleMs: 60_000 })) seen.push(item.type);
      })();
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100)); // now blocked in XREAD (or waiting in-process)
      ac.abort();
      await reading;
      assert.deepEqual(seen, ['turn'], 'nothing after the abort, no idle');
      await bus.close();
    });
  });
}

contract('in-process', () => createMemoryTurnEventBus(3600));

describe('Redis', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(() => redis.quit());
  contract('Redis', () => createRedisTurnEventBus(redis, 60));
  it('caps and expires streams', async () => {
    const bus = createRedisTurnEventBus(redis, 60);
    const stream = turnStreamKey(`test-${randomUUID()}`);
    await bus.publish(stream, { type: 'token', data: { text: 'x' } });
    const ttl = await redis.ttl(stream);
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
  });
});
