// What waits for what in a turn (README, "The turn's timeline"): the rules' reading standing alone when it
// is sure, the semantic layer compiling SQL without a model, the answer speculated on the rules' reading
// and released when the model agrees or discarded when it does not, and reconcile only when it can change
// the route. The real stack: dev server, the real activities, Redis, PGlite and the offline model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Activities } from '../../activities/index.ts';
import { updateTenantSettings } from '../../activities/tenant/store.ts';
import type { ModelCall } from '../../workflows/shared/contract.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';
import { runTurn } from '../helpers/turns.ts';

const steps = (calls: readonly ModelCall[] | undefined) => (calls ?? []).map((c) => `${c.step}:${c.outcome}`);

describe('the turn’s critical path', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: false });
  });
  after(() => stack.close());

  const setAcme = (patch: Parameters<typeof updateTenantSettings>[3]) => updateTenantSettings(stack.stores.app.pool, stack.messaging.kv, 'acme', patch);
  const always = () => setAcme({ understanding: { modelMode: 'always' } });
  const whenUnsure = () => setAcme({ understanding: { modelMode: 'when-unsure' } });

  it('sure rules: no capture or detect call, and the semantic layer compiles the query (no model writes SQL)', async () => {
    await stack.withWorker({}, async (taskQueue) => {
      const { result, events } = await runTurn(stack, fresh('What was our revenue by category in March 2025?'), { taskQueue });
      assert.equal(result.intent, 'analytics');
      assert.deepEqual(result.understanding?.source, { capture: 'rules', detect: 'rules' });
      assert.deepEqual(steps(result.calls).filter((s) => !s.startsWith('generateAnswer')), [], 'the only model calls are the answer’s');
      assert.equal(result.timings.steps['runSqlAgent.compiled'], 1);
      assert.ok(events.some((e) => e.type === 'sql'), 'the compiled query ran and its rows were streamed');
      const skipped = events.filter((e) => e.type === 'step' && e.data.status === 'skipped').map((e) => (e.type === 'step' ? e.data.name : ''));
      assert.ok(skipped.includes('captureSlots') && skipped.includes('detectIntent'), skipped.join(', '));
      assert.deepEqual(result.fallbacks, []);
      assert.match(result.answer, /\d/, 'the answer carries figures');
    });
  });

  it('modelMode always: the model reads the question while the answer, speculated on the rules, waits; it agrees and the held answer is released', async () => {
    await always();
    try {
      await stack.withWorker({}, async (taskQueue) => {
        const { result, events } = await runTurn(stack, fresh('What was our revenue by category in March 2025?'), { taskQueue });
        const calls = steps(result.calls);
        assert.ok(calls.includes('captureSlots:ok') && calls.includes('detectIntent:ok'), calls.join(', '));
        assert.ok(calls.includes('generateAnswer:speculative-won'), calls.join(', '));
        assert.equal(calls.filter((c) => c.startsWith('generateAnswer')).length, 1, 'one answer call: the speculative one');
        assert.deepEqual(result.understanding?.source, { capture: 'model', detect: 'model' }, 'done carries the model’s reading');
        const text = events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.data.text : '')).join('');
        assert.equal(text, result.answer, 'every held token reached the stream');
        const first = events.findIndex((e) => e.type === 'token');
        const detected = events.findIndex((e) => e.type === 'step' && e.data.name === 'detectIntent');
        assert.ok(detected >= 0 && detected < first, 'no token before the model’s reading was in');
      });
    } finally {
      await whenUnsure();
    }
  });

  it('the model disagrees: the held answer is discarded (its calls counted) and the turn answers on the model’s reading', async () => {
    await always();
    // The model reads a policy question where the rules read analytics; slow enough that the held answer started.
    const disagreeing = {
      captureSlots: async () => {
        await new Promise((r) => setTimeout(r, 400));
        return { slots: { topic: 'returns' }, inherited: [], source: 'model' as const };
      },
      detectIntent: async () => {
        await new Promise((r) => setTimeout(r, 400));
        return { intent: 'knowledge' as const, confidence: 0.9, complexity: 'simple' as const, source: 'model' as const };
      },
    } satisfies Partial<Activities>;
    try {
      await stack.withWorker(disagreeing, async (taskQueue) => {
        const { result, events } = await runTurn(stack, fresh('What was our revenue by category in March 2025?'), { taskQueue });
        assert.equal(result.intent, 'knowledge');
        const calls = steps(result.calls);
        assert.ok(calls.includes('generateAnswer:speculative-discarded'), calls.join(', '));
        assert.ok(calls.includes('generateAnswer:won'), calls.join(', '));
        assert.ok(result.sources?.length, 'answered from the documents');
        const text = events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.data.text : '')).join('');
        assert.equal(text, result.answer, 'no discarded token reached the stream');
      });
    } finally {
      await whenUnsure();
    }
  });

  it('reconcile runs only when it can change the route: an unsure greeting has no slots to reconcile with', async () => {
    await stack.withWorker({}, async (taskQueue) => {
      // A tag the rules do not know makes them unsure (0.5): the model is asked, and is unsure too.
      const { result, events } = await runTurn(stack, fresh('hello, who are you?'), { taskQueue });
      assert.equal(result.intent, 'small_talk');
      assert.ok(steps(result.calls).includes('detectIntent:ok'));
      assert.ok(!steps(result.calls).some((s) => s.startsWith('reconcileIntent')), steps(result.calls).join(', '));
      assert.equal(result.understanding?.reconciled, false);
      assert.ok(events.some((e) => e.type === 'step' && e.data.name === 'reconcileIntent' && e.data.status === 'skipped'));
    });
  });
});
