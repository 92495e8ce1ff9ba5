import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSystemPrompt, buildUserContext } from '../../activities/generate-answer/prompt.ts';

describe('answer prompt', () => {
  it('is stable per tenant (a cacheable prefix) and names the tenant', () => {
    assert.equal(buildSystemPrompt('acme'), buildSystemPrompt('acme'));
    assert.notEqual(buildSystemPrompt('acme'), buildSystemPrompt('globex'));
    assert.match(buildSystemPrompt('globex'), /"globex"/);
  });

  it('tells the model who is asking only what is known, and to answer in a non-English user’s language', () => {
    assert.equal(buildUserContext({ language: 'en' }), '');
    assert.equal(buildUserContext({ language: 'und', displayName: null, locale: null }), '');
    assert.equal(
      buildUserContext({ displayName: 'Sam', locale: 'de-DE', language: 'de' }),
      'About the user: name Sam; locale de-DE; writes in language "de": answer in that language.',
    );
  });
});
