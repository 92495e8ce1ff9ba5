// Knowledge retrieval on the real stack: each tenant's policy documents chunked, embedded (pgvector HNSW)
// and full-text indexed, retrieved by reciprocal-rank fusion, cited in the answer, never another tenant's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKnowledgeActivities } from '../../activities/knowledge/activities.ts';
import { chunkTexts, indexTenantDocuments, retrieveChunks } from '../../activities/knowledge/store.ts';
import { activityRunner } from '../helpers/activity-env.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';
import { runTurn } from '../helpers/turns.ts';

describe('knowledge retrieval', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it("answers policy questions from the tenant's own documents, and cites them", async () => {
    const cases = [
      ['acme', 'What is your return policy?', /30 days/, 'returns'],
      ['globex', 'What is your return policy?', /60 days/, 'returns'],
      ['acme', 'When is shipping free?', /\$50/, 'shipping'],
      ['globex', 'When is shipping free?', /\$75/, 'shipping'],
    ] as const;
    // Without a random tag: this stack's caches start empty, and the offline embedder ranks passages by
    // words, so a random token in the question would shuffle which passages come first.
    for (const [tenantId, question, fact, slug] of cases) {
      const { result, events } = await runTurn(stack, question, { tenantId });
      assert.equal(result.intent, 'knowledge');
      assert.match(result.answer, fact, `${tenantId}: ${result.answer}`);
      assert.ok(result.sources?.some((s) => s.slug === slug), JSON.stringify(result.sources));
      assert.match(result.answer, /Source/, 'the answer names its document');
      assert.ok(events.some((e) => e.type === 'step' && e.data.name === 'retrieveKnowledge' && e.data.status === 'completed'));
    }
  });

  it("retrieves only the tenant's chunks, and never hands out another tenant's text by id", async () => {
    const embedder = stack.providers.embedder;
    await indexTenantDocuments(stack.stores.app.pool, embedder, 'acme');
    await indexTenantDocuments(stack.stores.app.pool, embedder, 'globex');
    const [vector] = await embedder.embed(['What is the globex return window?']);
    const chunks = await retrieveChunks(stack.stores.app.pool, { tenantId: 'acme', embedder: embedder.model, vector: vector!, question: 'globex return window 60 days', topK: 15 });
    assert.ok(chunks.length > 0);
    const { rows } = await stack.stores.app.pool.query('SELECT DISTINCT tenant_id FROM kb_chunks WHERE id = ANY($1::bigint[])', [chunks.map((c) => c.id)]);
    assert.deepEqual(rows.map((r) => r.tenant_id), ['acme']);
    const globexIds = (await stack.stores.app.pool.query("SELECT id FROM kb_chunks WHERE tenant_id = 'globex' LIMIT 3")).rows.map((r) => Number(r.id));
    assert.deepEqual(await chunkTexts(stack.stores.app.pool, 'acme', globexIds), [], 'ids of another tenant yield nothing');
  });

  it('caches retrieved chunks per tenant generation, and retrieves nothing for top_k 0', async () => {
    const run = activityRunner();
    const acts = createKnowledgeActivities({ appDb: stack.stores.app.pool, kv: stack.messaging.kv, embedder: stack.providers.embedder });
    const question = fresh('How do I return shoes?');
    const first = await run(acts.retrieveKnowledge, { tenantId: 'acme', generation: 1, question, topK: 3, topic: 'returns' });
    const again = await run(acts.retrieveKnowledge, { tenantId: 'acme', generation: 1, question, topK: 3, topic: 'returns' });
    assert.equal(first.cached, false);
    assert.equal(again.cached, true);
    assert.deepEqual(again.chunks, first.chunks);
    const nextGeneration = await run(acts.retrieveKnowledge, { tenantId: 'acme', generation: 2, question, topK: 3, topic: 'returns' });
    assert.equal(nextGeneration.cached, false, 'a document change (new generation) retires the cached chunks');
    assert.deepEqual(await run(acts.retrieveKnowledge, { tenantId: 'acme', generation: 1, question: fresh('hi'), topK: 0 }), { chunks: [], cached: false });
  });
});
