// Slot capture and intent detection through the real SDKs against the offline model (which answers the
// understanding prompts from the product's rules), with both providers, and every fallback to the rules:
// provider error, timeout, invalid output. Cancellation must propagate, never become a fallback.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createUnderstandingActivities, type UnderstandingProvider } from '../../activities/understanding/activities.ts';
import { buildCapturePrompt, buildDetectPrompt, readUnderstandingPrompt, understandingPromptText } from '../../activities/understanding/prompts.ts';
import { captureByRules, detectByRules } from '../../activities/understanding/rules.ts';
import { parseCaptureOutput, parseDetectOutput } from '../../activities/understanding/schemas.ts';
import { createAnthropicProvider } from '../../infra/llm/anthropic-provider.ts';
import { createOpenAIProvider } from '../../infra/llm/openai-provider.ts';
import type { ChatProvider, ProviderName } from '../../infra/llm/provider.ts';
import { answerFor } from '../../infra/dev/offline-model/rules.ts';
import { startOfflineModel, ZERO_LATENCY_PROFILE, type OfflineModel } from '../../infra/dev/offline-model/server.ts';
import type { SessionContext } from '../../workflows/shared/understanding.ts';
import { activityRunner } from '../helpers/activity-env.ts';
import { productRules } from '../../workers/offline-rules.ts';

// A Wednesday: last week is Mon 2026-03-09 .. Mon 2026-03-16 (exclusive).
const TODAY = '2026-03-18';
const TZ = 'Europe/Berlin';
const MODELS: Record<ProviderName, { fast: string; strong: string }> = {
  anthropic: { fast: 'test-anthropic-fast', strong: 'test-anthropic-strong' },
  openai: { fast: 'test-openai-fast', strong: 'test-openai-strong' },
};
const PROVIDER_NAMES = ['anthropic', 'openai'] as const;

/** A Temporal logger that keeps warnings, so fallbacks can be seen logged (and the test output stays quiet). */
function collectingLogger(): Logger & { warnings: { message: string; meta?: LogMetadata }[] } {
  const warnings: { message: string; meta?: LogMetadata }[] = [];
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    if (level === 'WARN') warnings.push({ message, meta });
  };
  return {
    warnings,
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

function environment() {
  const logger = collectingLogger();
  const env = new MockActivityEnvironment(undefined, { logger });
  return { env, logger, run: activityRunner(env) };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('understanding activities against the offline model', () => {
  let model: OfflineModel;
  let providers: Record<ProviderName, ChatProvider>;

  const activitiesFor = (understandingProvider: ProviderName, understandingTimeoutMs = 5000) =>
    createUnderstandingActivities({ providers, settings: { understandingProvider, understandingTimeoutMs } });

  before(async () => {
    model = await startOfflineModel({ product: productRules,  profiles: { anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE } });
    providers = {
      anthropic: createAnthropicProvider({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, models: MODELS.anthropic }),
      openai: createOpenAIProvider({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, models: MODELS.openai }),
    };
  });
  after(() => model.close());
  afterEach(() => {
    model.setProfile('anthropic', ZERO_LATENCY_PROFILE);
    model.setProfile('openai', ZERO_LATENCY_PROFILE);
  });

  for (const name of PROVIDER_NAMES) {
    describe(`with ${name} as the understanding provider`, () => {
      it('captures time ranges resolved against today, filters, metrics and order ids, from the fast model', async () => {
        const { captureSlots } = activitiesFor(name);
        const { run } = environment();
        const before = { ...model.stats().models };

        const revenue = await run(captureSlots, { message: 'What was our revenue last week in Europe?', today: TODAY, timeZone: TZ, previous: null });
        assert.equal(revenue.source, 'model', revenue.fallbackReason);
        assert.equal(revenue.fallbackReason, undefined);
        assert.equal(revenue.slots.metric, 'revenue');
        assert.deepEqual(revenue.slots.timeRange, { label: 'last_week', start: '2026-03-09', end: '2026-03-16' });
        assert.deepEqual(revenue.slots.filters?.region, ['Europe']);
        assert.deepEqual(revenue.inherited, []);

        const orders = await run(captureSlots, { message: 'How many orders came through the mobile app yesterday?', today: TODAY, timeZone: TZ, previous: null });
        assert.equal(orders.source, 'model');
        assert.equal(orders.slots.metric, 'orders');
        assert.deepEqual(orders.slots.timeRange, { label: 'yesterday', start: '2026-03-17', end: '2026-03-18' });
        assert.deepEqual(orders.slots.filters?.channel, ['mobile']);

        const status = await run(captureSlots, { message: 'Where is my order #10452?', today: TODAY, timeZone: TZ, previous: null });
        assert.equal(status.source, 'model');
        assert.deepEqual(status.slots.entities?.orderIds, [10452]);

        // The model answered what the rules answer (the offline model is the rules), through the wire format.
        const { source: _source, ...rules } = captureByRules('What was our revenue last week in Europe?', { today: TODAY, previous: null });
        assert.deepEqual({ slots: revenue.slots, inherited: revenue.inherited }, rules);

        const stats = model.stats().models;
        assert.equal((stats[MODELS[name].fast] ?? 0) - (before[MODELS[name].fast] ?? 0), 3, 'every call asked for the fast model');
        assert.equal((stats[MODELS[name].strong] ?? 0) - (before[MODELS[name].strong] ?? 0), 0, 'never the strong one');
      });

      it('a follow-up inherits the previous slots it does not change', async () => {
        const { captureSlots } = activitiesFor(name);
        const { run } = environment();
        const first = await run(captureSlots, { message: 'What was our revenue last week in Europe?', today: TODAY, timeZone: TZ, previous: null });
        const previous: SessionContext = { intent: 'analytics', slots: first.slots };
        const followUp = await run(captureSlots, { message: 'And last month?', today: TODAY, timeZone: TZ, previous });
        assert.equal(followUp.source, 'model', followUp.fallbackReason);
        assert.deepEqual(followUp.slots.timeRange, { label: 'last_month', start: '2026-02-01', end: '2026-03-01' });
        assert.equal(followUp.slots.metric, 'revenue');
        assert.deepEqual(followUp.slots.filters?.region, ['Europe']);
        assert.ok(followUp.inherited.includes('metric') && followUp.inherited.includes('filters'), JSON.stringify(followUp.inherited));
        assert.ok(!followUp.inherited.includes('timeRange'), 'the new time range is not inherited');
      });

      it('detect: pass 2 sees the captured slots, which raise its confidence', async () => {
        const { captureSlots, detectIntent } = activitiesFor(name);
        const { run } = environment();
        // A follow-up read alone is a guess; with the slots it inherited it is clearly analytics.
        const previous: SessionContext = {
          intent: 'analytics',
          slots: { metric: 'revenue', timeRange: { label: 'last_week', start: '2026-03-09', end: '2026-03-16' } },
        };
        const message = 'And in Europe?';
        const captured = await run(captureSlots, { message, today: TODAY, timeZone: TZ, previous });
        assert.equal(captured.slots.metric, 'revenue');
        const pass1 = await run(detectIntent, { message, pass: 1 });
        const pass2 = await run(detectIntent, { message, slots: captured.slots, pass: 2, reasons: ['low-confidence'] });
        assert.equal(pass1.source, 'model', pass1.fallbackReason);
        assert.equal(pass2.source, 'model', pass2.fallbackReason);
        assert.equal(pass2.intent, 'analytics');
        assert.ok(pass2.confidence >= 0.8 && pass1.confidence <= 0.6, `pass 1 ${pass1.confidence}, pass 2 ${pass2.confidence}`);
        assert.ok(pass2.confidence > pass1.confidence, `pass 1 ${pass1.confidence}, pass 2 ${pass2.confidence}`);
        // The same as the rules give with and without slots: the slots reached the model only in pass 2.
        assert.equal(pass1.confidence, detectByRules(message, {}).confidence);
        assert.equal(pass2.confidence, detectByRules(message, { slots: captured.slots }).confidence);

        // Pass 1 never sends slots, even when the caller has some.
        const pass1WithSlots = await run(detectIntent, { message, slots: captured.slots, pass: 1 });
        assert.equal(pass1WithSlots.confidence, pass1.confidence);
      });

      it('falls back to the rules when the provider fails (529)', async () => {
        const { captureSlots, detectIntent } = activitiesFor(name);
        const { run, logger } = environment();
        model.setProfile(name, { errorRate: 1, errorStatus: 529 });
        const message = 'What was our revenue last week in Europe?';
        const capture = await run(captureSlots, { message, today: TODAY, timeZone: TZ, previous: null });
        assert.equal(capture.source, 'rules');
        assert.match(capture.fallbackReason ?? '', /529/);
        const { source: _s, ...rules } = captureByRules(message, { today: TODAY, previous: null });
        assert.deepEqual({ slots: capture.slots, inherited: capture.inherited }, rules);

        const detect = await run(detectIntent, { message, pass: 1 });
        assert.equal(detect.source, 'rules');
        assert.match(detect.fallbackReason ?? '', /529/);
        assert.equal(detect.intent, detectByRules(message, {}).intent);
        assert.equal(logger.warnings.length, 2, 'each fallback is logged');
        assert.equal(model.stats().errors[`${name}:529`] !== undefined, true);
      });

      it('falls back to the rules on timeout, without waiting for the slow model', async () => {
        const { captureSlots, detectIntent } = activitiesFor(name, 200);
        const { run } = environment();
        model.setProfile(name, { ttftMs: 2000 });
        const abortedBefore = model.stats().aborted;
        const capture = await run(captureSlots, { message: 'Top 5 products by revenue this month', today: TODAY, timeZone: TZ, previous: null });
        const detect = await run(detectIntent, { message: 'Top 5 products by revenue this month', pass: 1 });
        assert.equal(capture.source, 'rules');
        assert.equal(capture.fallbackReason, 'timeout');
        assert.equal(capture.slots.limit, 5);
        assert.equal(detect.source, 'rules');
        assert.equal(detect.fallbackReason, 'timeout');
        // Both slow requests were hung up at their budget, not awaited.
        await until(() => model.stats().aborted >= abortedBefore + 2);
      });

      it('cancelling the activity while the model is slow rejects with a cancellation, not a fallback', async () => {
        const { captureSlots, detectIntent } = activitiesFor(name, 10_000);
        model.setProfile(name, { ttftMs: 5000 });
        for (const call of ['capture', 'detect'] as const) {
          const { env, run, logger } = environment();
          const abortedBefore = model.stats().aborted;
          const requestsBefore = model.stats().requests[name] ?? 0;
          const pending =
            call === 'capture'
              ? run(captureSlots, { message: 'Revenue by region last week', today: TODAY, timeZone: TZ, previous: null })
              : run(detectIntent, { message: 'Revenue by region last week', pass: 1 });
          await until(() => (model.stats().requests[name] ?? 0) > requestsBefore);
          env.cancel();
          await assert.rejects(pending, (err: Error) => {
            assert.ok(err.name === 'AbortError' || err.name === 'CancelledFailure', `${call}: ${err.name}: ${err.message}`);
            return true;
          });
          assert.equal(logger.warnings.length, 0, `${call}: no fallback was attempted`);
          // The HTTP request was hung up, not left running.
          await until(() => model.stats().aborted > abortedBefore);
        }
      });
    });
  }

  it('invalid model output (prose, bad enums, wrong types) falls back to the rules', async () => {
    const replies = [
      'Sure! The user is asking about revenue in Europe last week.',
      '{"slots": {"metric": "profit"}, "inherited": []}',
      '{"intent": "shopping", "confidence": 0.9, "complexity": "simple"}',
    ];
    for (const text of replies) {
      // All the activities need of a provider is complete(); nothing else is faked.
      const prose = {
        complete: async (req) => ({ text, usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, model: req.model ?? 'fake-fast', provider: 'openai', totalMs: 1 }),
      } satisfies UnderstandingProvider;
      const { captureSlots, detectIntent } = createUnderstandingActivities({
        providers: { openai: prose },
        settings: { understandingProvider: 'openai', understandingTimeoutMs: 1000 },
      });
      const { run } = environment();
      const capture = await run(captureSlots, { message: 'What was our revenue last week in Europe?', today: TODAY, timeZone: TZ, previous: null });
      assert.equal(capture.source, 'rules', text);
      assert.equal(capture.fallbackReason, 'invalid-output');
      assert.equal(capture.slots.metric, 'revenue');
      const detect = await run(detectIntent, { message: 'What was our revenue last week in Europe?', pass: 1 });
      assert.equal(detect.source, 'rules', text);
      assert.equal(detect.fallbackReason, 'invalid-output');
    }
  });

  it('an unconfigured provider falls back to the rules', async () => {
    const { captureSlots } = createUnderstandingActivities({
      providers: { anthropic: providers.anthropic },
      settings: { understandingProvider: 'openai', understandingTimeoutMs: 1000 },
    });
    const result = await environment().run(captureSlots, { message: 'Revenue last week', today: TODAY, timeZone: TZ, previous: null });
    assert.equal(result.source, 'rules');
    assert.equal(result.fallbackReason, 'provider-not-configured: openai');
  });

  it('a model reply with a follow-up but no `inherited` gets it computed from the previous slots', async () => {
    const previous: SessionContext = {
      intent: 'analytics',
      slots: { metric: 'revenue', filters: { region: ['Europe'] }, timeRange: { label: 'last_week', start: '2026-03-09', end: '2026-03-16' } },
    };
    const reply = JSON.stringify({
      slots: { metric: 'revenue', filters: { region: ['Europe'] }, timeRange: { label: 'last_month', start: '2026-02-01', end: '2026-03-01' } },
    });
    const fake = {
      complete: async () => ({ text: `\`\`\`json\n${reply}\n\`\`\``, usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, model: 'fake', provider: 'anthropic', totalMs: 1 }),
    } satisfies UnderstandingProvider;
    const { captureSlots } = createUnderstandingActivities({ providers: { anthropic: fake }, settings: { understandingProvider: 'anthropic', understandingTimeoutMs: 1000 } });
    const result = await environment().run(captureSlots, { message: 'And last month?', today: TODAY, timeZone: TZ, previous });
    assert.equal(result.source, 'model');
    assert.deepEqual([...result.inherited].sort(), ['filters', 'metric']);
  });
});

describe('understanding prompts and output parsing', () => {
  it('prompts start with the task line, end with the per-request lines, and share everything else', () => {
    const a = buildCapturePrompt({ message: 'Revenue last week', today: TODAY, timeZone: TZ, previous: null });
    const b = buildCapturePrompt({ message: 'Orders?', today: '2026-04-01', timeZone: TZ, previous: { intent: 'analytics', slots: { metric: 'revenue' } } });
    const linesA = understandingPromptText(a).split('\n');
    const linesB = understandingPromptText(b).split('\n');
    assert.equal(linesA[0], 'TASK: capture_slots');
    assert.equal(linesA.at(-2), `Today: ${TODAY} (time zone: ${TZ})`);
    assert.equal(linesA.at(-1), 'Previous slots: none');
    assert.equal(linesB.at(-1), 'Previous slots: {"metric":"revenue"}');
    assert.deepEqual(linesA.slice(0, -2), linesB.slice(0, -2), 'the cacheable prefix is stable');
    assert.equal(a.system, b.system, 'the cacheable part is sent apart from the per-request lines');
    assert.deepEqual(a.messages, [{ role: 'user', content: 'Revenue last week' }]);
    assert.ok(understandingPromptText(a).length < 2500, `capture prompt is ${understandingPromptText(a).length} chars`);

    const d1 = buildDetectPrompt({ message: 'x' });
    const d2 = buildDetectPrompt({ message: 'y', slots: { metric: 'orders' } });
    const t1 = understandingPromptText(d1);
    assert.equal(t1.split('\n')[0], 'TASK: detect_intent');
    assert.equal(t1.split('\n').at(-1), 'Captured slots: none');
    assert.equal(understandingPromptText(d2).split('\n').at(-1), 'Captured slots: {"metric":"orders"}');
    assert.equal(d1.system, d2.system);
    assert.ok(t1.length < 1500, `detect prompt is ${t1.length} chars`);
  });

  it('reads prompts back, treating malformed lines as none', () => {
    const previous: SessionContext = { intent: 'analytics', slots: { metric: 'revenue', limit: 5 } };
    assert.deepEqual(readUnderstandingPrompt(understandingPromptText(buildCapturePrompt({ message: 'm', today: TODAY, timeZone: TZ, previous }))), {
      task: 'capture_slots',
      today: TODAY,
      timeZone: TZ,
      previousSlots: { metric: 'revenue', limit: 5 },
    });
    const malformed = 'TASK: capture_slots\nToday: soon\nPrevious slots: {"metric": oops';
    assert.deepEqual(readUnderstandingPrompt(malformed), { task: 'capture_slots', today: null, timeZone: null, previousSlots: null });
    assert.deepEqual(readUnderstandingPrompt('TASK: detect_intent\nCaptured slots: {"metric":"nope"}'), { task: 'detect_intent', capturedSlots: null });
    assert.equal(readUnderstandingPrompt('You are the shop assistant.'), null);
  });

  it('the offline model never throws on malformed understanding prompts and answers parseable JSON', () => {
    const cases = [
      'TASK: capture_slots',
      'TASK: capture_slots\nToday: 2026-02-30 (time zone: Europe/Berlin)\nPrevious slots: [1,2]',
      'TASK: capture_slots\nToday: 2026-03-18 (time zone: Europe/Berlin)\nPrevious slots: {"timeRange":{"label":"x","start":"2026-03-10","end":"2026-03-01"}}',
      'TASK: detect_intent\nCaptured slots: null',
      'TASK: detect_intent',
    ];
    for (const system of cases) {
      for (const question of ['Revenue last week by region', 'and last month?', '', 'hi']) {
        const text = answerFor({ system, messages: [{ role: 'user', content: question }] }, productRules);
        const parsed = system.startsWith('TASK: capture_slots') ? parseCaptureOutput(text) : parseDetectOutput(text);
        assert.ok(parsed, `${JSON.stringify(system)} / ${JSON.stringify(question)}: ${text}`);
      }
    }
    // Deterministic: the same request, the same JSON.
    const req = { system: understandingPromptText(buildCapturePrompt({ message: 'q', today: TODAY, timeZone: TZ, previous: null })), messages: [{ role: 'user' as const, content: 'Top 3 categories this year' }] };
    assert.equal(answerFor(req, productRules), answerFor(req, productRules));
  });

  it('parses the first JSON object out of fences and prose, strictly', () => {
    const ok = parseCaptureOutput(
      'Here you go:\n```json\n{"slots": {"metric": "units", "limit": 3, "order": "desc", "dimension": "category", "extra": 1, "filters": {"country": ["DE"], "status": []}, "topic": null}, "inherited": ["metric", "bogus"]}\n```\nAnything else? {"not": "this"}',
    );
    assert.deepEqual(ok, {
      slots: { metric: 'units', limit: 3, order: 'desc', dimension: 'category', filters: { country: ['DE'] } },
      inherited: ['metric'],
      inheritedGiven: true,
    });
    const noInherited = parseCaptureOutput('{"slots": {}}');
    assert.deepEqual(noInherited, { slots: {}, inherited: [], inheritedGiven: false });
    // A string containing braces does not end the object early.
    assert.deepEqual(parseCaptureOutput('{"slots": {"entities": {"skus": ["A-{1}"]}}, "inherited": []}')?.slots, { entities: { skus: ['A-{1}'] } });

    for (const bad of [
      'no json at all',
      '{"slots": {"metric": "profit"}}',
      '{"slots": {"limit": 2.5}}',
      '{"slots": {"limit": "5"}}',
      '{"slots": {"timeRange": {"label": "x", "start": "2026-13-01", "end": "2026-14-01"}}}',
      '{"slots": {"timeRange": {"label": "x", "start": "2026-03-10", "end": "2026-03-10"}}}',
      '{"slots": {"filters": {"region": ["europe"]}}}',
      '{"slots": {"filters": {"country": ["Germany"]}}}',
      '{"slots": {"entities": {"orderIds": [-1]}}}',
      '{"slots": {"complaint": "yes"}}',
      '{"inherited": []}',
      '{"slots": {"metric": "revenue"}',
    ]) {
      assert.equal(parseCaptureOutput(bad), null, bad);
    }

    assert.deepEqual(parseDetectOutput('```\n{"intent": "knowledge", "confidence": 0.8, "complexity": "simple", "why": "policy"}\n```'), {
      intent: 'knowledge',
      confidence: 0.8,
      complexity: 'simple',
    });
    for (const bad of [
      '{"intent": "knowledge", "confidence": 1.2, "complexity": "simple"}',
      '{"intent": "knowledge", "confidence": "high", "complexity": "simple"}',
      '{"intent": "knowledge", "confidence": 0.5, "complexity": "hard"}',
      '{"intent": "refund", "confidence": 0.5, "complexity": "simple"}',
      '{"intent": "knowledge", "confidence": 0.5}',
    ]) {
      assert.equal(parseDetectOutput(bad), null, bad);
    }
  });
});
