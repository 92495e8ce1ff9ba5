// What an understanding asks of the turn, and when the model reads the question: pure functions the
// workflow uses to start work on the rules' reading and to check it against the final one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureByRules, detectByRules, slotSignature } from '../../activities/understanding/rules.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';
import { modelAsked, routeOf, rulesRoute, sameDocs, sameRoute } from '../../workflows/turn/route.ts';

const read = (message: string) => {
  const { slots, inherited } = captureByRules(message, { today: '2026-06-30' });
  const { intent, confidence, complexity } = detectByRules(message, { slots });
  return { intent, confidence, complexity, slots, inherited, signature: slotSignature(intent, slots) };
};
const opened = (message: string) => ({ tenant: { settings: DEFAULT_TENANT_SETTINGS, generation: 0, today: '2026-06-30', timeZone: 'UTC' }, language: 'en', previous: null, exactKey: null, hit: null, rules: read(message) });

describe('the route of an understanding', () => {
  it('analytics with a metric wants data; a policy question wants documents; small talk neither', () => {
    const analytics = routeOf(read('What was our revenue by category in March 2025?'));
    assert.equal(analytics.wantsData, true);
    assert.equal(analytics.wantsDocs, false);
    const policy = routeOf(read('What is your return policy?'));
    assert.equal(policy.wantsDocs, true);
    assert.equal(policy.wantsData, false);
    const hello = routeOf(read('Hi there!'));
    assert.deepEqual([hello.wantsData, hello.wantsDocs, hello.docsTrivial, hello.asksForMetric], [false, false, false, false]);
  });

  it('analytics without anything to measure asks instead of querying', () => {
    const vague = routeOf({ intent: 'analytics', slots: { timeRange: { label: 'last_week', start: '2026-06-22', end: '2026-06-29' } }, complexity: 'simple' });
    assert.equal(vague.wantsData, false);
    assert.equal(vague.asksForMetric, true);
  });

  it('the same route needs the same intent and slot signature: another period is another route', () => {
    const march = routeOf(read('What was our revenue in March 2025?'));
    const april = routeOf(read('What was our revenue in April 2025?'));
    assert.equal(sameRoute(march, routeOf(read('Revenue in March 2025, please'))), true);
    assert.equal(sameRoute(march, april), false);
    assert.equal(sameRoute(march, { ...march, intent: 'knowledge', signature: slotSignature('knowledge', march.slots) }), false);
  });

  it('documents serve another route only with the same topic and passage count', () => {
    const returns = routeOf(read('What is your return policy?'));
    assert.equal(sameDocs(returns, routeOf(read('How do returns work?'))), true);
    assert.equal(sameDocs(returns, routeOf(read('How does shipping work?'))), false);
  });
});

describe('when the model reads the question (understanding.modelMode)', () => {
  it('when-unsure: sure rules stand alone, unsure ones ask the model; always: the model always reads', () => {
    const sure = opened('What was our revenue by category in March 2025?');
    const unsure = opened('numbers by channel this year');
    assert.equal(modelAsked(DEFAULT_TENANT_SETTINGS, sure.rules), false);
    assert.equal(modelAsked(DEFAULT_TENANT_SETTINGS, unsure.rules), true);
    const always = { understanding: { ...DEFAULT_TENANT_SETTINGS.understanding, modelMode: 'always' as const } };
    assert.equal(modelAsked(always, sure.rules), true);
  });

  it('an unknown reading, or a first step recorded before the rules kept their confidence, asks the model', () => {
    const unknown = { intent: 'unknown' as const, signature: '{}', confidence: 0.99, complexity: 'simple' as const, slots: {}, inherited: [] };
    assert.equal(modelAsked(DEFAULT_TENANT_SETTINGS, unknown), true);
    assert.equal(modelAsked(DEFAULT_TENANT_SETTINGS, { intent: 'analytics', signature: '{}' }), true);
    assert.equal(modelAsked(DEFAULT_TENANT_SETTINGS, undefined), true);
    assert.equal(rulesRoute({ ...opened('hi'), rules: { intent: 'small_talk', signature: '{}' } }), null);
  });
});
