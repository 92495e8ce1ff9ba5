// The exact cache and the turn event bus on the machine's Redis: the contracts their in-process
// implementations meet (test/unit), plus what only Redis does (TTL, capped and expiring streams).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisTurnEventBus } from '../../activities/turn-events/bus.ts';
import { createRedisKvCache } from '../../infra/kv-cache.ts';
import { turnStreamKey } from '../../workflows/shared/contract.ts';
import { kvCacheContract, turnEventBusContract } from '../helpers/contracts.ts';

describe('Redis cache', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(() => redis.quit());
  it('expires entries after their TTL', async () => {
    const cache = createRedisKvCache(redis);
    const key = `exact:test:${process.pid}:ttl`;
    await cache.set(key, 'v', 1);
    assert.equal(await cache.get(key), 'v');
    assert.ok((await redis.ttl(key)) <= 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await cache.get(key), null);
  });
  kvCacheContract('Redis', () => createRedisKvCache(redis));
});

describe('Redis turn event bus', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis('redis://127.0.0.1:6379');
  });
  after(() => redis.quit());
  turnEventBusContract('Redis', () => createRedisTurnEventBus(redis, 60));
  it('caps and expires streams', async () => {
    const bus = createRedisTurnEventBus(redis, 60);
    const stream = turnStreamKey(`test-${randomUUID()}`);
    await bus.publish(stream, { type: 'token', data: { text: 'x' } });
    const ttl = await redis.ttl(stream);
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
  });
});
