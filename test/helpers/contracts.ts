// Contracts every implementation of a store interface meets: the unit tests run them on the in-process
// implementations, test/integration on the Redis ones.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { StreamTakenOver, type BusItem, type TurnEventBus } from '../../activities/turn-events/bus.ts';
import type { KvCache } from '../../infra/kv-cache.ts';
import { turnStreamKey, type TurnResult, ZERO_USAGE } from '../../workflows/shared/contract.ts';

export function kvCacheContract(name: string, make: () => KvCache) {
  describe(`${name} cache`, () => {
    it('stores, reads, deletes one key and deletes by tenant prefix', async () => {
      const cache = make();
      const prefix = `exact:test:${process.pid}:${Date.now()}:`;
      await cache.set(`${prefix}acme:1`, 'a', 60);
      await cache.set(`${prefix}acme:2`, 'b', 60);
      await cache.set(`${prefix}acme:3`, 'x', 60);
      await cache.set(`${prefix}globex:1`, 'c', 60);
      assert.equal(await cache.get(`${prefix}acme:1`), 'a');
      await cache.delete(`${prefix}acme:3`);
      assert.equal(await cache.get(`${prefix}acme:3`), null);
      assert.equal(await cache.deletePrefix(`${prefix}acme:`), 2);
      assert.equal(await cache.get(`${prefix}acme:2`), null);
      assert.equal(await cache.get(`${prefix}globex:1`), 'c');
      await cache.deletePrefix(prefix);
    });
  });
}

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

export function turnEventBusContract(name: string, make: () => TurnEventBus) {
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

    it('lets one writer at a time write the answer: a later attempt claims the stream and reads what the earlier one wrote', async () => {
      const bus = make();
      const stream = turnStreamKey(`test-${randomUUID()}`);
      assert.deepEqual(await bus.claim(stream, 'answer-1:1'), [], 'a new stream has no events');
      await bus.publish(stream, { type: 'token', data: { text: 'Hel' } }, 'answer-1:1');
      const seen = await bus.claim(stream, 'answer-1:2');
      assert.deepEqual(seen.map((e) => (e.data as { text: string }).text), ['Hel'], 'the claim returns what the earlier attempt wrote');
      // The earlier attempt (given up for dead) can no longer write; the claimant and unfenced writers can.
      await assert.rejects(bus.publish(stream, { type: 'token', data: { text: 'lo (zombie)' } }, 'answer-1:1'), StreamTakenOver);
      await assert.rejects(bus.publishTerminal(stream, { type: 'done', data: DONE }, 'answer-1:1'), StreamTakenOver);
      await bus.publish(stream, { type: 'token', data: { text: 'lo' } }, 'answer-1:2');
      await bus.publish(stream, { type: 'step', data: { name: 'persistTurn', status: 'completed' } });
      // A lower attempt of the same activity cannot take the stream back; another activity (a fallback) can.
      await assert.rejects(bus.claim(stream, 'answer-1:1'), StreamTakenOver);
      const all = await bus.claim(stream, 'fallback-2:1');
      assert.deepEqual(all.filter((e) => e.type === 'token').map((e) => (e.data as { text: string }).text), ['Hel', 'lo']);
      await assert.rejects(bus.publish(stream, { type: 'token', data: { text: '!' } }, 'answer-1:2'), StreamTakenOver);
      assert.ok(await bus.publishTerminal(stream, { type: 'done', data: DONE }, 'fallback-2:1'));
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
