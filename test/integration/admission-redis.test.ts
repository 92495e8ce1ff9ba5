// The admission checks on Redis, as a split deployment's API replicas share them: the same contract as the
// in-process store (test/helpers/admission-contract.ts), each check under a prefix of its own; then what only
// a shared store can get wrong: replicas racing for the last slots, and the keys' lifetimes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisKvCache } from '../../infra/kv-cache.ts';
import { createAdmission, releasingBus } from '../../activities/admission/admission.ts';
import { createRedisAdmissionStore } from '../../activities/admission/redis-store.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { turnStreamKey, type TurnResult } from '../../workflows/shared/contract.ts';
import { admissionContract, limits } from '../helpers/admission-contract.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connection and a prefix of its own; `close` deletes every key under the prefix. */
function scratch() {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = `test:admit:${randomUUID().slice(0, 8)}:`;
  return {
    redis,
    prefix,
    close: async () => {
      await createRedisKvCache(redis).deletePrefix(prefix);
      redis.disconnect();
    },
  };
}

admissionContract('Redis', async () => {
  const s = scratch();
  return { store: createRedisAdmissionStore(s.redis, s.prefix), close: s.close };
});

describe('admission on Redis, shared by API replicas', () => {
  const s = scratch();
  // A second replica: its own connection, the same keys.
  const other = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  before(() => other.ping());
  after(async () => {
    other.disconnect();
    await s.close();
  });

  it('never admits more than a limit allows when replicas race for the last slots', async () => {
    const replicas = [createAdmission({ store: createRedisAdmissionStore(s.redis, s.prefix) }), createAdmission({ store: createRedisAdmissionStore(other, s.prefix) })];
    const l = limits({ concurrentTurns: 5 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.admit({ workflowId: `turn-race-${i}`, tenantId: 'race', keyId: 'k', limits: l, turnMs: 25_000 })));
    assert.equal(results.filter((r) => r.ok).length, 5);
    assert.equal((await replicas[0]!.usage('race', l)).running, 5);
  });

  it('keeps a turn’s slot for its deadline and a day’s budget for two days, no longer', async () => {
    const store = createRedisAdmissionStore(s.redis, s.prefix);
    const admission = createAdmission({ store });
    const r = await admission.admit({ workflowId: 'turn-ttl-1', tenantId: 'ttl', keyId: 'k', limits: limits(), turnMs: 25_000 });
    assert.ok(r.ok);
    const slotTtl = await s.redis.pttl(`${s.prefix}ticket:turn-ttl-1`);
    assert.ok(slotTtl > 80_000 && slotTtl <= 85_000, `the ticket lapses with the turn's deadline + 60 s (${slotTtl} ms)`);
    await releasingBus(createMemoryTurnEventBus(60), store).publishTerminal(turnStreamKey('turn-ttl-1'), { type: 'done', data: { usage: { inputTokens: 3, outputTokens: 4 }, costUsd: 0.01 } as Partial<TurnResult> as TurnResult });
    assert.equal(await s.redis.exists(`${s.prefix}ticket:turn-ttl-1`), 0, 'the terminal event deletes the ticket');
    const [budget] = await s.redis.keys(`${s.prefix}budget:ttl:*`);
    assert.ok(budget, 'the day’s budget is kept');
    assert.deepEqual(await s.redis.hgetall(budget), { tokens: '7', cost: '0.01' });
    const budgetTtl = await s.redis.pttl(budget);
    assert.ok(budgetTtl > 2 * 86_400_000 - 60_000 && budgetTtl <= 2 * 86_400_000);
  });
});
