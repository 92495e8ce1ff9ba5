import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactCacheKey, isCacheableAnswer, normalizeQuestion, type ExactKeyParts } from '../../activities/caches/exact-key.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { kvCacheContract } from '../helpers/contracts.ts';

const parts: ExactKeyParts = { tenantId: 'acme', generation: 1, language: 'en', promptVersion: 'answer-v1', signature: 'intent=analytics', message: 'Sales last week?' };

describe('exact cache keys', () => {
  it('ignore case, spacing, Unicode forms and trailing punctuation', () => {
    assert.equal(normalizeQuestion('  What were SALES last   week?? '), 'what were sales last week');
    assert.equal(normalizeQuestion('ｓａｌｅｓ'), 'sales', 'full-width letters are the same question');
    assert.equal(exactCacheKey(parts), exactCacheKey({ ...parts, message: 'sales last week' }));
  });

  it('change with everything that changes the answer', () => {
    const key = exactCacheKey(parts);
    assert.match(key, /^exact:v2:acme:1:[0-9a-f]{64}$/);
    for (const change of [
      { tenantId: 'globex' },
      { generation: 2 },
      { language: 'de' },
      { promptVersion: 'answer-v2' },
      // A follow-up's inherited slots, or "last week" resolved on another day, make another key.
      { signature: 'intent=analytics;time=2026-06-22..2026-06-29' },
      { message: 'sales last month' },
    ]) {
      assert.notEqual(exactCacheKey({ ...parts, ...change }), key, JSON.stringify(change));
    }
  });

  it('refuse answers that say they could not answer', () => {
    for (const a of [
      "Thanks for your question about \"x\". I don't have specific information on that right now.",
      'The data needed to answer that is not available to me in this turn, so I can\'t give you real numbers right now.',
      'Sorry, the data could not be retrieved.',
      '',
    ]) {
      assert.equal(isCacheableAnswer(a), false, a);
    }
    assert.equal(isCacheableAnswer('Revenue last week was $12,340 across 310 orders.'), true);
    assert.equal(isCacheableAnswer('Acme accepts returns within 30 days of delivery.'), true);
  });
});

kvCacheContract('in-process', () => createMemoryKvCache());

describe('in-process cache', () => {
  it('evicts the least recently used entry beyond its size and honours TTL', async () => {
    let now = 0;
    const cache = createMemoryKvCache(2, () => now);
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
