// Generation through the real workflow: the offline model's latency and fault profiles drive the
// race (slow, failing and stalling providers), Retry-After, the turn's deadline and the fallback
// hierarchy. Tokens are read from the turn's stream as a client would.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities/index.ts';
import { updateTenantSettings } from '../../activities/tenant/store.ts';
import type { TenantSettingsPatch } from '../../activities/tenant/settings.ts';
import { CANNED_ANSWER_PREFIX } from '../../workflows/shared/answers.ts';
import { type StoredTurnEvent, type TurnResult, turnStreamKey, turnWorkflowId } from '../../workflows/shared/contract.ts';
import { FAILURE_TYPES } from '../../workflows/shared/failures.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';
import { answering } from '../helpers/stubs.ts';
import { activityInputs, runTurn } from '../helpers/turns.ts';

const ZERO = { ttftMs: 0, tokensPerSec: 0, jitterMs: 0, errorRate: 0, stallRate: 0, retryAfterSec: null, headersMs: null, stallAfterTokens: 1 };

/** The answer as a client assembles it: tokens since the last `generateAnswer started`. */
function streamedAnswer(events: StoredTurnEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.type === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'started') text = '';
    if (e.type === 'token') text += e.data.text;
  }
  return text;
}

/** Resolves when the turn's stream carries an event that matches. */
async function waitForEvent(stack: TestStack, workflowId: string, match: (e: StoredTurnEvent) => boolean): Promise<void> {
  const ac = new AbortController();
  try {
    for await (const item of stack.messaging.events.subscribe(turnStreamKey(workflowId), '0', { signal: ac.signal, idleMs: 200 })) {
      if (item.type !== 'idle' && match(item as StoredTurnEvent)) return;
    }
  } finally {
    ac.abort();
  }
}

const answerCalls = (r: TurnResult) => (r.calls ?? []).filter((c) => c.step === 'generateAnswer');
const starts = (events: StoredTurnEvent[]) => events.filter((e) => e.type === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'started');
/** Redis stream ids start with the server's clock in ms. */
const at = (e: StoredTurnEvent) => Number(e.id.split('-')[0]);

describe('generation: racing, failover, deadlines', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
    // The answer's race, retries and fallbacks, timed from the answer's own start: no speculation in the way
    // (a held answer's attempts are the same activity; critical-path.test.ts covers holding and release).
    await settle({ pipeline: { speculate: false } });
  });
  after(async () => {
    await settle({ pipeline: { speculate: DEFAULT_TENANT_SETTINGS.pipeline.speculate } });
    await stack.close();
  });

  const settle = async (patch: TenantSettingsPatch) => updateTenantSettings(stack.stores.app.pool, stack.messaging.kv, 'acme', patch);
  const profiles = (anthropic: object, openai: object) => {
    stack.setProfile('anthropic', { ...ZERO, ...anthropic });
    stack.setProfile('openai', { ...ZERO, ...openai });
  };
  const reset = async () => {
    profiles({}, {});
    const { generation, deadlines, exactCache, semanticCache } = DEFAULT_TENANT_SETTINGS;
    await settle({ generation, deadlines, exactCache, semanticCache });
  };

  it('races on the first content token: a slow first provider loses to the faster second, and only the winner streams', async () => {
    await settle({ generation: { hedgeDelayMs: 0 } });
    // Anthropic answers headers at once but thinks for 1.5 s: "first response wins" would pick it.
    profiles({ ttftMs: 1500, headersMs: 5 }, { ttftMs: 30, headersMs: 25 });
    const abortedBefore = stack.providers.offline!.stats().abortedByProvider.anthropic ?? 0;
    try {
      const { result, events } = await runTurn(stack, fresh('Hello! What can you do?'));
      assert.equal(result.provider, 'openai');
      assert.equal(result.generation?.strategy, 'race');
      assert.equal(result.generation?.winner, 'openai');
      assert.deepEqual(answerCalls(result).map((c) => [c.provider, c.outcome]).sort(), [['anthropic', 'lost'], ['openai', 'won']]);
      const lost = answerCalls(result).find((c) => c.provider === 'anthropic')!;
      assert.ok(lost.usage.inputTokens > 0, "the loser's prompt tokens are counted");
      assert.ok(lost.listCostUsd > 0, "and priced at its model's list price");
      assert.equal(result.costUsd, 0, 'the offline model is priced as what it is');
      assert.ok(stack.providers.offline!.stats().abortedByProvider.anthropic! > abortedBefore, 'the loser was cancelled at the provider');
      assert.equal(starts(events).length, 1);
      assert.ok(events.filter((e) => e.type === 'token').every((e) => e.type === 'token' && e.data.attempt === 1), 'tokens carry their attempt');
      assert.equal(streamedAnswer(events), result.answer);
      assert.deepEqual(result.fallbacks, [], 'losing a race is not a fallback');
    } finally {
      await reset();
    }
  });

  it('hedges after the delay: a quick first provider answers alone, and the second is never started', async () => {
    await settle({ generation: { hedgeDelayMs: 800 } });
    profiles({ ttftMs: 20 }, { ttftMs: 0 });
    const openaiBefore = stack.providers.offline!.stats().requests.openai ?? 0;
    try {
      const { result } = await runTurn(stack, fresh('Hello there!'));
      assert.equal(result.provider, 'anthropic');
      assert.equal(result.generation?.hedgeDelayMs, 800);
      assert.deepEqual(answerCalls(result).map((c) => c.provider), ['anthropic']);
      assert.equal(stack.providers.offline!.stats().requests.openai ?? 0, openaiBefore);
    } finally {
      await reset();
    }
  });

  it('a failing first provider: the second answers in the same attempt, without waiting for the hedge', async () => {
    // A hedge later than the turn's deadline: had the second waited for it, the turn would have run out of time.
    await settle({ generation: { hedgeDelayMs: 30_000 } });
    profiles({ errorRate: 1, errorStatus: 529 }, {});
    try {
      const { result, events } = await runTurn(stack, fresh('hi, who are you?'));
      assert.equal(result.provider, 'openai');
      // (The failing Anthropic also sent capture and detect to the rules.)
      assert.deepEqual(result.fallbacks.filter((f) => !f.endsWith(':rules')), ['generateAnswer:anthropic'], 'no deadline was reached');
      assert.equal(starts(events).length, 1, 'no retry was needed');
      const failed = answerCalls(result).find((c) => c.provider === 'anthropic')!;
      assert.equal(failed.status, 529);
      assert.ok(answerCalls(result).find((c) => c.provider === 'openai')!.startMs >= failed.startMs + failed.ms, 'the second started on the failure');
    } finally {
      await reset();
    }
  });

  it('a provider stalling mid-answer fails over, and the answer continues without restarting', async () => {
    // The reference: the same question answered without a stall (caches off, so both runs generate).
    await settle({ exactCache: { enabled: false }, semanticCache: { enabled: false }, generation: { hedgeDelayMs: 5000, stallTimeoutMs: 400 } });
    try {
      const message = fresh('What can you help me with?');
      const reference = await runTurn(stack, message);
      profiles({ stallRate: 1, stallAfterTokens: 4, stallMs: 30_000 }, {});
      const { result, events } = await runTurn(stack, message);
      assert.equal(result.answer, reference.result.answer, 'the continued answer is the whole answer, nothing repeated or lost');
      assert.equal(streamedAnswer(events), result.answer);
      assert.equal(starts(events).length, 1, 'the client never had to start over');
      assert.ok(events.some((e) => e.type === 'step' && e.data.name === 'failover'), 'the failover is on the stream');
      assert.deepEqual(answerCalls(result).map((c) => [c.provider, c.outcome]), [['anthropic', 'stalled'], ['openai', 'continuation']]);
      assert.equal(result.generation?.failovers, 1);
      assert.ok(result.fallbacks.includes('generateAnswer:failover'));
    } finally {
      await reset();
    }
  });

  it('honours Retry-After as the next retry delay, and counts the failed attempt', async () => {
    await stack.withWorker({}, async (taskQueue) => {
      await settle({ generation: { providers: ['anthropic'], strategy: 'single' } });
      profiles({ errorRate: 1, errorStatus: 429, retryAfterSec: 1.5 }, {});
      try {
        const turnId = randomUUID();
        const turn = runTurn(stack, fresh('Hello, are you there?'), { taskQueue, turnId });
        // Let the answer's first attempt fail, then let the provider recover.
        await waitForEvent(stack, turnWorkflowId('acme', turnId), (e) => e.type === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'failed');
        stack.setProfile('anthropic', { errorRate: 0 });
        const { result, events } = await turn;
        const failed = events.find((e) => e.type === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'failed' && e.data.attempt === 1)!;
        const retried = events.find((e) => e.type === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'started' && e.data.attempt === 2)!;
        assert.ok(failed && retried, 'attempt 1 failed and attempt 2 ran');
        assert.ok(at(retried) - at(failed) >= 1400, `the retry waited for Retry-After (${at(retried) - at(failed)} ms)`);
        assert.equal(result.provider, 'anthropic');
        assert.equal(result.generation?.attempts, 2);
        const calls = answerCalls(result);
        assert.deepEqual(calls.map((c) => c.outcome), ['failed', 'won'], 'the failed attempt is counted too');
        assert.equal(calls[0]!.retryAfterMs, 1500);
      } finally {
        await reset();
      }
    });
  });

  it('starts a provider that asked for Retry-After last, until its time is up', async () => {
    await stack.withWorker({}, async (taskQueue) => {
      await settle({ generation: { hedgeDelayMs: 0 } });
      profiles({ errorRate: 1, errorStatus: 429, retryAfterSec: 60 }, { ttftMs: 10 });
      try {
        const first = await runTurn(stack, fresh('hello!'), { taskQueue });
        assert.equal(first.result.provider, 'openai');
        assert.deepEqual(first.result.generation?.providers, ['anthropic', 'openai']);
        const second = await runTurn(stack, fresh('hello again!'), { taskQueue });
        assert.deepEqual(second.result.generation?.providers, ['openai', 'anthropic'], 'anthropic is cooling down');
      } finally {
        await reset();
      }
    });
  });

  it('past the turn deadline, switches to the simplified flow: no data, fast tier, short', async () => {
    // The SQL agent takes longer than the whole turn may.
    const slowAgent = { runSqlAgent: async () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('too slow')), 2500)) } satisfies Partial<Activities>;
    await stack.withWorker(slowAgent, async (taskQueue) => {
      await settle({ deadlines: { turnMs: 1500 } });
      try {
        const { result, workflowId } = await runTurn(stack, fresh('Compare revenue and units sold by category and by region for this year versus last year, and the top 10 products in Europe?'), { taskQueue });
        assert.ok(result.fallbacks.includes('turnDeadline:simplified'), result.fallbacks.join());
        assert.ok(!result.answer.startsWith(CANNED_ANSWER_PREFIX), result.answer);
        assert.equal(result.generation?.tier, 'fast');
        const inputs = (await activityInputs(stack, workflowId, 'generateAnswer')) as { data?: unknown; knowledgeChunkIds?: number[]; tier: string; maxTokens: number }[];
        const simplified = inputs.at(-1)!;
        assert.equal(simplified.data, undefined);
        assert.deepEqual(simplified.knowledgeChunkIds, []);
        assert.equal(simplified.maxTokens, 500);
      } finally {
        await reset();
      }
    });
  });

  it('when even the simplified flow gets no first token in time, the canned answer says so', async () => {
    // Both providers at once, so both are named in what failed.
    await settle({ deadlines: { turnMs: 1000, simplifiedMs: 600 }, generation: { hedgeDelayMs: 0 } });
    profiles({ ttftMs: 8000 }, { ttftMs: 8000 });
    const abortedBefore = stack.providers.offline!.stats().abortedByProvider;
    try {
      const { result, events } = await runTurn(stack, fresh('hello?'));
      assert.ok(result.answer.startsWith(CANNED_ANSWER_PREFIX));
      assert.match(result.answer, /took too long \(anthropic did not answer in time, openai did not answer in time\)/);
      assert.ok(result.fallbacks.includes('turnDeadline:simplified'));
      // Not waited for: each provider's 8 s answer was hung up.
      const aborted = stack.providers.offline!.stats().abortedByProvider;
      assert.ok(aborted.anthropic > abortedBefore.anthropic && aborted.openai > abortedBefore.openai, JSON.stringify(aborted));
      assert.equal(events.filter((e) => e.type === 'done').length, 1);
    } finally {
      await reset();
    }
  });

  it('a strong-tier answer that keeps failing is tried once on the fast tier', async () => {
    const answer = answering('Here is the comparison you asked for.');
    const strongDown = {
      generateAnswer: async (input: Parameters<Activities['generateAnswer']>[0]) => {
        if (input.tier === 'strong') throw ApplicationFailure.create({ type: FAILURE_TYPES.providerUnavailable, message: 'strong model overloaded', nonRetryable: true });
        return answer(input);
      },
    } satisfies Partial<Activities>;
    await stack.withWorker(strongDown, async (taskQueue) => {
      const { result } = await runTurn(stack, fresh('Compare revenue and units sold by category and by region for this year versus last year, and also show the top 10 products by orders in Europe and in Asia Pacific?'), { taskQueue });
      assert.ok(['complex', 'comprehensive'].includes(result.complexity));
      assert.equal(result.answer, 'Here is the comparison you asked for.');
      assert.ok(result.fallbacks.includes('generateAnswer:tier-downgrade'));
    });
  });
});
