import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { activityRunner } from '../helpers/activity-env.ts';
import { Redis } from 'ioredis';
import { createExactCacheActivities, exactCacheKey, normalizeQuestion } from '../../activities/exact-cache.ts';
import { createMemoryExactCache, createRedisExactCache, type ExactCache } from '../../infra/exact-cache.ts';
import type { TurnResult } from '../../workflows/shared/contract.ts';

describe('exact cache keys', () => {
  it('ignore case, spacing and trailing punctuation', () => {
    assert.equal(normalizeQuestion('  What were SALES last   week?? '), 'what were sales last week');
    assert.equal(exactCacheKey('acme', 'Sales last week?'), exactCacheKey('acme', 'sales last week'));
  });

  it('are tenant-scoped and tell different questions apart', () => {
    assert.notEqual(exactCacheKey('acme', 'sales last week'), exactCacheKey('globex', 'sales last week'));
    assert.notEqual(exactCacheKey('acme', 'sales last week'), exactCacheKey('acme', 'sales last month'));
    assert.match(exactCacheKey('acme', 'x'), /^exact:v1:acme:[0-9a-f]{64}$/);
  });
});

function contract(name: string, make: () => ExactCache) {
  describe(`${name} exact cache`, () => {
    it('stores, reads and deletes by tenant prefix', async () => {
      const cache = make();
      const prefix = `exact:test:${process.pid}:${Date.now()}:`;
      await cache.set(`${prefix}acme:1`, 'a', 60);
      await cache.set(`${prefix}acme:2`, 'b', 60);
      await cache.set(`${prefix}globex:1`, 'c', 60);
      assert.equal(await cache.get(`${prefix}acme:1`), 'a');
      assert.equal(await cache.deletePrefix(`${prefix}acme:`), 2);
      assert.equal(await cache.get(`${prefix}acme:2`), null);
      assert.equal(await cache.get(`${prefix}globex:1`), 'c');
      await cache.deletePrefix(prefix);
    });
  });
}

contract('in-process', () => createMemoryExactCache());

describe('Redis exact cache', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(() => redis.quit());
  it('expires entries after their TTL', async () => {
    const cache = createRedisExactCache(redis);
    const key = `exact:test:${process.pid}:ttl`;
    await cache.set(key, 'v', 1);
    assert.equal(await cache.get(key), 'v');
    assert.ok((await redis.ttl(key)) <= 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await cache.get(key), null);
  });
  contract('Redis', () => createRedisExactCache(redis));
});

describe('in-process exact cache', () => {
  it('evicts the least recently used entry beyond its size and honours TTL', async () => {
    let now = 0;
    const cache = createMemoryExactCache(2, () => now);
    await cache.set('a', '1', 10);
    await cache.set('b', '2', 10);
    await cache.get('a');
    await cache.set('c', '3', 10);
    assert.equal(await cache.get('b'), null);
    assert.equal(await cache.get('a'), '1');
    now = 11_000;
    assert.equal(await cache.get('a'), null);
  });
});

describe('exact cache activities', () => {
  it('round-trip a delivered answer for the same tenant only', async () => {
    const run = activityRunner();
    const acts = createExactCacheActivities({ cache: createMemoryExactCache(), settings: { exactCacheTtlSeconds: 60, historyWindowTurns: 10 } });
    const result = { answer: 'Hello!', intent: 'general', complexity: 'trivial', provider: 'anthropic', model: 'offline-model' } as TurnResult;
    assert.equal(await run(acts.lookupExactCache, { tenantId: 'acme', message: 'hi' }), null);
    await run(acts.writeExactCache, { tenantId: 'acme', message: 'hi', result });
    const hit = await run(acts.lookupExactCache, { tenantId: 'acme', message: 'Hi!' });
    assert.equal(hit?.answer, 'Hello!');
    assert.equal(await run(acts.lookupExactCache, { tenantId: 'globex', message: 'hi' }), null);
  });
});
