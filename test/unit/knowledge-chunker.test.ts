import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDocument } from '../../activities/knowledge/chunker.ts';
import { orQuery } from '../../activities/knowledge/store.ts';
import { kbDocumentsFor } from '../../infra/demo/kb-documents.ts';

describe('knowledge chunker', () => {
  it('cuts every demo document into a few coherent chunks that together hold all of its text', () => {
    for (const tenant of ['acme', 'globex']) {
      for (const doc of kbDocumentsFor(tenant)) {
        const chunks = chunkDocument(doc.body);
        assert.ok(chunks.length >= 3 && chunks.length <= 12, `${tenant}/${doc.slug}: ${chunks.length} chunks`);
        assert.deepEqual(chunks.map((c) => c.ordinal), chunks.map((_, i) => i));
        for (const c of chunks) assert.ok(c.body.length <= 900, `${doc.slug} chunk of ${c.body.length} characters`);
        assert.equal(chunks.map((c) => c.body).join(' '), doc.body.replace(/\s+/g, ' ').trim());
      }
    }
  });

  it('splits a long paragraph at sentence ends and merges short ones', () => {
    const long = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} says something useful about returns.`).join(' ');
    const chunks = chunkDocument(`Short intro.\n\n${long}`);
    assert.ok(chunks.length >= 3);
    assert.ok(chunks.every((c) => /[.!?]$/.test(c.body)), 'each chunk ends at a sentence end');
    assert.match(chunks[0]!.body, /^Short intro\. Sentence number 0/);
    assert.deepEqual(chunkDocument('   \n\n  '), []);
  });

  it('searches full text with OR semantics, so a partial match still ranks', () => {
    assert.equal(orQuery('What is your return policy?'), 'what or is or your or return or policy');
    assert.equal(orQuery('!!!'), '');
  });
});
