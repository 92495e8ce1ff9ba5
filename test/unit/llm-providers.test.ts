// The two ChatProviders against the offline model, through the real SDKs: streaming and non-streaming
// calls, model tiers, usage and caching, error mapping for Temporal's retry policy, cancellation, and pricing.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createAnthropicProvider } from '../../infra/llm/anthropic-provider.ts';
import { createOpenAIProvider } from '../../infra/llm/openai-provider.ts';
import { costUsd, createPriceTable } from '../../infra/llm/pricing.ts';
import { ProviderAbortError, ProviderError, type ChatProvider, type CompleteRequest, type StreamRequest } from '../../infra/llm/provider.ts';
import { startOfflineModel, ZERO_LATENCY_PROFILE, type OfflineModel } from '../../infra/dev/offline-model/server.ts';
import { productRules } from '../../workers/offline-rules.ts';

const LONG_SYSTEM = 'You are the shop assistant. Be concise and factual, never invent numbers. '.repeat(70);

function request(overrides: Partial<StreamRequest> = {}): StreamRequest & { tokens: string[] } {
  const tokens: string[] = [];
  return {
    system: 'You are the shop assistant.',
    messages: [{ role: 'user', content: 'Hello' }],
    maxTokens: 500,
    signal: new AbortController().signal,
    onToken: (t) => tokens.push(t),
    ...overrides,
    tokens,
  };
}

function completeRequest(overrides: Partial<CompleteRequest> = {}): CompleteRequest {
  return {
    system: 'You are the shop assistant.',
    messages: [{ role: 'user', content: 'Hello' }],
    maxTokens: 500,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** Distinct names per provider and tier, so the server's per-model counter tells which one was asked for. */
const MODELS = {
  anthropic: { fast: 'claude-haiku-4-5', strong: 'claude-sonnet-4-6' },
  openai: { fast: 'gpt-4.1-mini', strong: 'gpt-4.1' },
} as const;

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('chat providers against the offline model', () => {
  let model: OfflineModel;
  let providers: ChatProvider[];
  let expected: string;

  /** A snapshot of the server's request counts per requested model name, to diff against. */
  const modelCounts = () => ({ ...model.stats().models });
  const delta = (before: Record<string, number>, name: string) => (model.stats().models[name] ?? 0) - (before[name] ?? 0);

  before(async () => {
    model = await startOfflineModel({ product: productRules,  profiles: { anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE }, seed: 3 });
    providers = [
      createAnthropicProvider({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, models: MODELS.anthropic }),
      createOpenAIProvider({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, models: MODELS.openai }),
    ];
    // The offline model's non-streaming answer, straight from the SDK: what both call styles must produce.
    const anthropic = new Anthropic({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, maxRetries: 0 });
    const whole = await anthropic.messages.create({
      model: 'x',
      max_tokens: 500,
      system: 'You are the shop assistant.',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expected = whole.content[0]?.type === 'text' ? whole.content[0].text : '';
  });
  after(() => model.close());
  afterEach(() => {
    model.setProfile('anthropic', ZERO_LATENCY_PROFILE);
    model.setProfile('openai', ZERO_LATENCY_PROFILE);
  });

  it('stream several tokens that add up to the non-streaming answer, from the strong model', async () => {
    assert.ok(expected.length > 0);
    const openai = new OpenAI({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'x',
      messages: [
        { role: 'system', content: 'You are the shop assistant.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, expected);

    for (const provider of providers) {
      const req = request();
      const counts = modelCounts();
      const result = await provider.stream(req);
      assert.ok(req.tokens.length >= 10, `${provider.name}: ${req.tokens.length} tokens`);
      assert.equal(req.tokens.join(''), expected);
      assert.equal(result.text, expected);
      // The server answers as `offline-model` whatever was asked; what it received is the point.
      assert.equal(delta(counts, provider.models.strong), 1, `${provider.name}: the strong model was requested`);
      assert.equal(delta(counts, provider.models.fast), 0);
      assert.equal(result.provider, provider.name);
      assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
      assert.ok(result.ttftMs !== null && result.ttftMs >= 0 && result.totalMs >= result.ttftMs);
      assert.equal(result.stopReason, provider.name === 'anthropic' ? 'end_turn' : 'stop');
    }
  });

  it('anthropic: a long cached system prompt is written once, then read', async () => {
    const [anthropic] = providers;
    const first = await anthropic!.stream(request({ system: `${LONG_SYSTEM} (a)` }));
    const second = await anthropic!.stream(request({ system: `${LONG_SYSTEM} (a)`, messages: [{ role: 'user', content: 'Returns?' }] }));
    assert.ok(first.usage.cacheWriteTokens >= 1024, JSON.stringify(first.usage));
    assert.equal(first.usage.cacheReadTokens, 0);
    assert.equal(second.usage.cacheReadTokens, first.usage.cacheWriteTokens);
    assert.equal(second.usage.cacheWriteTokens, 0);

    const plain = await anthropic!.stream(request({ system: `${LONG_SYSTEM} (b)`, cacheSystemPrompt: false }));
    const plainAgain = await anthropic!.stream(request({ system: `${LONG_SYSTEM} (b)`, cacheSystemPrompt: false }));
    assert.equal(plain.usage.cacheWriteTokens + plainAgain.usage.cacheReadTokens, 0, 'no cache_control, no caching');
  });

  it('per-turn system context follows the cached prompt without breaking its cache, on both providers', async () => {
    const [anthropic, openai] = providers;
    const first = await anthropic!.stream(request({ system: `(ctx) ${LONG_SYSTEM}`, systemContext: 'About the user: name Sam.' }));
    const second = await anthropic!.stream(request({ system: `(ctx) ${LONG_SYSTEM}`, systemContext: 'About the user: name Kim; locale de-DE.' }));
    assert.ok(first.usage.cacheWriteTokens >= 1024);
    assert.equal(second.usage.cacheReadTokens, first.usage.cacheWriteTokens, 'another user, the same cached prompt');
    assert.ok(second.usage.inputTokens > 0, 'the context itself is billed as input');
    await openai!.stream(request({ system: `(ctx-o) ${LONG_SYSTEM}`, systemContext: 'About the user: name Sam.' }));
    const again = await openai!.stream(request({ system: `(ctx-o) ${LONG_SYSTEM}`, systemContext: 'About the user: name Kim.' }));
    assert.ok(again.usage.cacheReadTokens >= 1024, 'the stable prefix is still cached');
  });

  it('openai: a repeated long prefix reports cached tokens, excluded from inputTokens', async () => {
    const openai = providers[1]!;
    const first = await openai.stream(request({ system: `${LONG_SYSTEM} (c)` }));
    const second = await openai.stream(request({ system: `${LONG_SYSTEM} (c)` }));
    assert.equal(first.usage.cacheReadTokens, 0);
    assert.ok(second.usage.cacheReadTokens >= 1024, JSON.stringify(second.usage));
    assert.equal(second.usage.inputTokens + second.usage.cacheReadTokens, first.usage.inputTokens);
    assert.equal(second.usage.cacheWriteTokens, 0);
  });

  it('injected 529/503/429 errors are retryable ProviderErrors with their status', async () => {
    const cases = [
      [providers[0]!, 529],
      [providers[0]!, 429],
      [providers[1]!, 503],
      [providers[1]!, 500],
    ] as const;
    for (const [provider, status] of cases) {
      model.setProfile(provider.name, { errorRate: 1, errorStatus: status });
      await assert.rejects(provider.stream(request()), (err: unknown) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.provider, provider.name);
        assert.equal(err.status, status);
        assert.equal(err.retryable, true);
        return true;
      });
    }
  });

  it('a rejected request (400) is a non-retryable ProviderError', async () => {
    for (const provider of providers) {
      // The server validates minimally: max_tokens below 1 is a 400 in either format.
      await assert.rejects(provider.stream(request({ maxTokens: 0 })), (err: unknown) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.status, 400);
        assert.equal(err.retryable, false);
        return true;
      });
    }
  });

  it('an unreachable endpoint is a retryable ProviderError without status', async () => {
    const gone = await startOfflineModel({ product: productRules });
    const url = gone.url;
    await gone.close();
    for (const provider of [
      createAnthropicProvider({ apiKey: 'offline', baseURL: `${url}/anthropic`, models: { fast: 'x', strong: 'x' } }),
      createOpenAIProvider({ apiKey: 'offline', baseURL: `${url}/openai/v1`, models: { fast: 'x', strong: 'x' } }),
    ]) {
      for (const call of [() => provider.stream(request()), () => provider.complete(completeRequest())]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof ProviderError, String(err));
          assert.equal(err.status, null);
          assert.equal(err.retryable, true);
          return true;
        });
      }
    }
  });

  it('aborting mid-stream rejects promptly with an AbortError and the server sees the hang-up', async () => {
    for (const provider of providers) {
      model.setProfile(provider.name, { tokensPerSec: 10 });
      const abortedBefore = model.stats().aborted;
      const ac = new AbortController();
      const req = request({ signal: ac.signal });
      req.onToken = (t) => {
        req.tokens.push(t);
        ac.abort();
      };
      await assert.rejects(provider.stream(req), (err: unknown) => {
        assert.ok(err instanceof ProviderAbortError, String(err));
        assert.equal((err as Error).name, 'AbortError', 'Temporal reports AbortError as a cancelled activity');
        assert.equal(err.retryable, false);
        assert.match(err.message, /cancelled/);
        return true;
      });
      // At 10 tokens/s the whole answer takes seconds; the abort must not wait for it: one token, then the hang-up.
      assert.equal(req.tokens.length, 1);
      await until(() => model.stats().aborted > abortedBefore);
    }
  });

  it('a connection dropped mid-stream is a retryable ProviderError, not a cancellation', async () => {
    for (const name of ['anthropic', 'openai'] as const) {
      const dying = await startOfflineModel({ product: productRules,  profiles: { [name]: { ...ZERO_LATENCY_PROFILE, tokensPerSec: 10 } } });
      const provider =
        name === 'anthropic'
          ? createAnthropicProvider({ apiKey: 'offline', baseURL: `${dying.url}/anthropic`, models: { fast: 'x', strong: 'x' } })
          : createOpenAIProvider({ apiKey: 'offline', baseURL: `${dying.url}/openai/v1`, models: { fast: 'x', strong: 'x' } });
      const req = request();
      req.onToken = () => void dying.close();
      await assert.rejects(provider.stream(req), (err: unknown) => {
        assert.ok(err instanceof ProviderError && !(err instanceof ProviderAbortError), String(err));
        assert.equal(err.retryable, true);
        return true;
      });
    }
  });

  it('an already aborted signal rejects with an AbortError', async () => {
    for (const provider of providers) {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(provider.stream(request({ signal: ac.signal })), { name: 'AbortError' });
    }
  });

  it('ttftMs follows the profile changed over HTTP (lower bound only)', async () => {
    const res = await fetch(`${model.url}/_offline/profiles`, {
      method: 'PUT',
      body: JSON.stringify({ anthropic: { ttftMs: 300 }, openai: { ttftMs: 300 } }),
    });
    assert.equal(res.status, 200);
    for (const provider of providers) {
      const result = await provider.stream(request());
      assert.ok(result.ttftMs !== null && result.ttftMs >= 250, `${provider.name}: ttft ${result.ttftMs}`);
    }
  });

  it('the model override reaches the server', async () => {
    for (const provider of providers) {
      const override = `${provider.models.strong}-override-test`;
      const counts = modelCounts();
      await provider.stream(request({ model: override }));
      assert.equal(delta(counts, override), 1, `${provider.name}: the override was requested`);
      assert.equal(delta(counts, provider.models.strong), 0, `${provider.name}: not the default`);
    }
  });

  it('complete() returns the non-streaming answer from the fast model, with usage', async () => {
    for (const provider of providers) {
      const counts = modelCounts();
      const result = await provider.complete(completeRequest({ temperature: 0 }));
      assert.equal(result.text, expected);
      assert.equal(result.provider, provider.name);
      assert.equal(result.model, 'offline-model', 'the model the server reports');
      assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0, JSON.stringify(result.usage));
      assert.ok(result.totalMs >= 0);
      assert.equal(delta(counts, provider.models.fast), 1, `${provider.name}: the fast model was requested`);
      assert.equal(delta(counts, provider.models.strong), 0);

      const override = `${provider.models.fast}-override-test`;
      const again = modelCounts();
      await provider.complete(completeRequest({ model: override }));
      assert.equal(delta(again, override), 1, `${provider.name}: the override was requested`);
    }
  });

  it('complete() with json: true is accepted by both wire formats', async () => {
    // OpenAI gets response_format json_object (the offline server accepts and ignores it); Anthropic has no such parameter.
    for (const provider of providers) {
      const result = await provider.complete(completeRequest({ json: true, temperature: 0 }));
      assert.equal(result.text, expected);
    }
  });

  it('complete(): injected 529/503 are retryable ProviderErrors, 400 is not', async () => {
    for (const [provider, status] of [
      [providers[0]!, 529],
      [providers[1]!, 529],
      [providers[1]!, 503],
    ] as const) {
      model.setProfile(provider.name, { errorRate: 1, errorStatus: status });
      await assert.rejects(provider.complete(completeRequest()), (err: unknown) => {
        assert.ok(err instanceof ProviderError && !(err instanceof ProviderAbortError), String(err));
        assert.equal(err.name, 'ProviderError');
        assert.equal(err.provider, provider.name);
        assert.equal(err.status, status);
        assert.equal(err.retryable, true);
        return true;
      });
    }
    model.setProfile('anthropic', ZERO_LATENCY_PROFILE);
    model.setProfile('openai', ZERO_LATENCY_PROFILE);
    for (const provider of providers) {
      await assert.rejects(provider.complete(completeRequest({ maxTokens: 0 })), (err: unknown) => {
        assert.ok(err instanceof ProviderError, String(err));
        assert.equal(err.status, 400);
        assert.equal(err.retryable, false);
        return true;
      });
    }
  });

  it('complete(): aborting while the server is still thinking rejects promptly with an AbortError', async () => {
    for (const provider of providers) {
      model.setProfile(provider.name, { ttftMs: 5000 });
      const abortedBefore = model.stats().aborted;
      const requestsBefore = model.stats().requests[provider.name] ?? 0;
      const ac = new AbortController();
      const call = provider.complete(completeRequest({ signal: ac.signal }));
      // Abort only once the server holds the request, so the hang-up is the server's to see.
      await until(() => (model.stats().requests[provider.name] ?? 0) > requestsBefore);
      ac.abort();
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof ProviderAbortError, String(err));
        assert.equal((err as Error).name, 'AbortError');
        assert.equal(err.retryable, false);
        return true;
      });
      // Rejected, not answered: the 5 s answer was not awaited, and the server saw the hang-up.
      await until(() => model.stats().aborted > abortedBefore);
    }
  });
});

describe('pricing', () => {
  const M = 1_000_000;
  const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
  });

  it('prices known models per million tokens, with cache reads and writes', () => {
    assert.equal(costUsd('claude-sonnet-4-5', usage(M, M)), 18);
    assert.equal(costUsd('claude-haiku-4-5', usage(M, M)), 6);
    assert.equal(costUsd('claude-haiku-4-5', usage(0, 0, M, 0)), 0.1);
    assert.equal(costUsd('claude-haiku-4-5', usage(0, 0, 0, M)), 1.25);
    assert.equal(costUsd('gpt-4.1', usage(M, M)), 10);
    assert.equal(costUsd('gpt-4.1-mini', usage(M, M)), 2);
  });

  it('matches dated snapshots to the longest known name', () => {
    assert.equal(costUsd('claude-sonnet-4-5-20250929', usage(M, 0)), 3);
    assert.equal(costUsd('gpt-4.1-mini-2025-04-14', usage(M, 0)), 0.4);
    assert.equal(costUsd('claude-3-5-haiku-latest', usage(M, 0)), 0.8);
    // A newer model is not priced as an older family member.
    assert.equal(costUsd('claude-opus-4-7', usage(M, 0)), 0);
  });

  it('prices the offline model as what it is (nothing) and unknown models at 0', () => {
    const u = usage(1234, 567, 2048, 10);
    assert.equal(costUsd('offline-model', u), 0);
    assert.ok(costUsd('claude-haiku-4-5', u) > 0);
    assert.equal(costUsd('some-local-llama', u), 0);
  });

  it('takes prices from configuration over the list', () => {
    const table = createPriceTable({ 'claude-haiku-4-5': { input: 2, output: 10 }, 'my-llama': { input: 0.5, output: 1, cacheRead: 0.05, cacheWrite: 0.5 } });
    assert.equal(table.costUsd('claude-haiku-4-5', usage(M, M)), 12);
    assert.equal(table.costUsd('claude-haiku-4-5-20251001', usage(M, 0)), 2, 'a snapshot takes the configured price');
    assert.equal(table.costUsd('my-llama', usage(M, M, M, M)), 2.05);
    assert.equal(table.costUsd('gpt-4.1', usage(M, M)), 10, 'other models keep their list price');
  });
});
