// The answer's race (activities/generate-answer/race.ts) with small scripted providers: who wins, who is
// stopped, what is counted, how a stall continues the answer, when the race gives up.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { raceProviders, RaceError, type RaceCandidate } from '../../activities/generate-answer/race.ts';
import { createProviderHealth, AUTO_HEDGE_INITIAL_MS } from '../../activities/generate-answer/provider-health.ts';
import { ProviderAbortError, ProviderError, type ChatProvider, type ProviderName, type StreamRequest, type StreamResult } from '../../infra/llm/provider.ts';

interface Script {
  ttftMs: number;
  tokens?: string[];
  gapMs?: number;
  /** Fail before the first token (status, Retry-After). */
  fail?: { status: number; retryAfterMs?: number; retryable?: boolean };
  /** Go quiet after this many tokens, for `ms`. */
  stall?: { after: number; ms: number };
}

/** A provider that follows a script and honours its abort signal as the SDKs do (rejecting with what it had used). */
function scripted(name: ProviderName, script: Script) {
  const requests: StreamRequest[] = [];
  let aborted = 0;
  const provider: Pick<ChatProvider, 'stream'> = {
    async stream(req): Promise<StreamResult> {
      requests.push(req);
      const started = performance.now();
      const usage = { inputTokens: 100, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
      let text = '';
      const wait = async (ms: number) => {
        try {
          await sleep(ms, undefined, { signal: req.signal });
        } catch {
          aborted++;
          const err = new ProviderAbortError(name);
          err.partial = { text, usage: { ...usage, outputTokens: text.length }, ttftMs: null };
          throw err;
        }
      };
      await wait(script.ttftMs);
      if (script.fail) {
        throw new ProviderError(`${name}: ${script.fail.status}`, name, script.fail.status, script.fail.retryable ?? true, { retryAfterMs: script.fail.retryAfterMs });
      }
      const tokens = script.tokens ?? ['Hello', ' from ', name];
      for (const [i, t] of tokens.entries()) {
        if (i > 0) await wait(script.gapMs ?? 1);
        if (script.stall && i === script.stall.after) await wait(script.stall.ms);
        text += t;
        req.onToken(t);
      }
      return { text, usage: { ...usage, outputTokens: text.length }, model: `${name}-reported`, provider: name, ttftMs: script.ttftMs, totalMs: performance.now() - started, stopReason: 'end_turn' };
    },
  };
  return { provider, requests, aborted: () => aborted };
}

const request = { system: 'You are a test.', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 100 };

function race(candidates: RaceCandidate[], opts: Partial<Parameters<typeof raceProviders>[0]> = {}) {
  const streamed: string[] = [];
  const failovers: string[] = [];
  const promise = raceProviders({
    candidates,
    hedgeDelayMs: 0,
    stallTimeoutMs: 2000,
    request,
    signal: new AbortController().signal,
    onToken: (t) => streamed.push(t),
    onFailover: (from, to) => failovers.push(`${from}->${to}`),
    ...opts,
  });
  return { promise, streamed, failovers };
}

const candidate = (name: ProviderName, s: ReturnType<typeof scripted>): RaceCandidate => ({ name, provider: s.provider, model: `${name}-fast` });

describe('answer race', () => {
  it('the first content token wins: the slow provider is stopped, and only the winner streams', async () => {
    const slow = scripted('anthropic', { ttftMs: 400 });
    const fast = scripted('openai', { ttftMs: 20, tokens: ['Fast', ' answer'] });
    const { promise, streamed } = race([candidate('anthropic', slow), candidate('openai', fast)]);
    const r = await promise;
    assert.equal(r.winner, 'openai');
    assert.equal(r.text, 'Fast answer');
    assert.deepEqual(streamed, ['Fast', ' answer']);
    const byProvider = Object.fromEntries(r.calls.map((c) => [c.provider, c]));
    assert.equal(byProvider.openai!.outcome, 'won');
    assert.equal(byProvider.anthropic!.outcome, 'lost');
    assert.equal(slow.aborted(), 1, 'the loser was aborted through its signal');
    assert.equal(byProvider.anthropic!.usage.inputTokens, 100, "the loser's tokens are still counted");
    assert.equal(r.model, 'openai-reported');
  });

  it('hedges: the next provider starts only after the delay, and not at all when the first is quick', async () => {
    const quick = scripted('anthropic', { ttftMs: 20 });
    const other = scripted('openai', { ttftMs: 5 });
    const r = await race([candidate('anthropic', quick), candidate('openai', other)], { hedgeDelayMs: 300 }).promise;
    assert.equal(r.winner, 'anthropic');
    assert.equal(other.requests.length, 0, 'no hedge was needed');
    assert.equal(r.calls.length, 1);

    const late = scripted('anthropic', { ttftMs: 1000 });
    const hedge = scripted('openai', { ttftMs: 10 });
    const r2 = await race([candidate('anthropic', late), candidate('openai', hedge)], { hedgeDelayMs: 100 }).promise;
    assert.equal(r2.winner, 'openai');
    const hedged = r2.calls.find((c) => c.provider === 'openai')!;
    assert.ok(hedged.startMs >= 90, `the hedge started after its delay (${hedged.startMs} ms)`);
  });

  it('a provider failing before its first token starts the next at once, without waiting for the hedge', async () => {
    const down = scripted('anthropic', { ttftMs: 10, fail: { status: 529 } });
    const up = scripted('openai', { ttftMs: 10 });
    // No hedge at all: only the failure can start the next provider.
    const r = await race([candidate('anthropic', down), candidate('openai', up)], { hedgeDelayMs: null }).promise;
    assert.equal(r.winner, 'openai');
    const failed = r.calls.find((c) => c.provider === 'anthropic')!;
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.status, 529);
  });

  it('a stall mid-answer continues on another provider from the text already streamed: no restart', async () => {
    const stalls = scripted('anthropic', { ttftMs: 5, tokens: ['The ', 'return ', 'window ', 'is ', '30 days.'], stall: { after: 3, ms: 10_000 } });
    const rescuer = scripted('openai', { ttftMs: 5, tokens: ['is ', '30 days.'] });
    const { promise, streamed, failovers } = race([candidate('anthropic', stalls), candidate('openai', rescuer)], { hedgeDelayMs: 1000, stallTimeoutMs: 150 });
    const r = await promise;
    assert.equal(r.text, 'The return window is 30 days.');
    assert.equal(streamed.join(''), r.text, 'the stream is one answer, continued');
    assert.deepEqual(failovers, ['anthropic->openai']);
    assert.equal(rescuer.requests[0]!.continueFrom, 'The return window ', 'the continuation was given the text so far');
    assert.deepEqual(
      r.calls.map((c) => [c.provider, c.outcome]),
      [
        ['anthropic', 'stalled'],
        ['openai', 'continuation'],
      ],
    );
    assert.equal(r.winner, 'anthropic', 'the winner is the provider whose first token won');
    assert.equal(r.failovers, 1);
  });

  it('does not double whitespace when a continuation repeats the space its trimmed prefill lost', async () => {
    const stalls = scripted('anthropic', { ttftMs: 5, tokens: ['Hello! ', 'How'], stall: { after: 1, ms: 10_000 } });
    const rescuer = scripted('openai', { ttftMs: 5, tokens: [' How ', 'can I help?'] });
    const r = await race([candidate('anthropic', stalls), candidate('openai', rescuer)], { hedgeDelayMs: 1000, stallTimeoutMs: 100 }).promise;
    assert.equal(r.text, 'Hello! How can I help?');
  });

  it('gives up when every provider fails: retryable unless all refused, waiting the shortest Retry-After', async () => {
    const a = scripted('anthropic', { ttftMs: 5, fail: { status: 429, retryAfterMs: 3000 } });
    const b = scripted('openai', { ttftMs: 5, fail: { status: 503, retryAfterMs: 1500 } });
    const err = await race([candidate('anthropic', a), candidate('openai', b)]).promise.catch((e: unknown) => e);
    assert.ok(err instanceof RaceError);
    assert.equal(err.reason, 'failed');
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterMs, 1500);
    assert.deepEqual(err.calls.map((c) => c.outcome), ['failed', 'failed']);

    const c = scripted('anthropic', { ttftMs: 5, fail: { status: 400, retryable: false } });
    const d = scripted('openai', { ttftMs: 5, fail: { status: 503 } });
    const mixed = await race([candidate('anthropic', c), candidate('openai', d)]).promise.catch((e: unknown) => e);
    assert.ok(mixed instanceof RaceError);
    assert.equal(mixed.retryable, true, 'one provider may recover');
    assert.equal(mixed.retryAfterMs, undefined, 'not every failure asked to wait');

    const refused = await race([candidate('anthropic', scripted('anthropic', { ttftMs: 5, fail: { status: 401, retryable: false } }))]).promise.catch((e: unknown) => e);
    assert.ok(refused instanceof RaceError);
    assert.equal(refused.retryable, false);
  });

  it('ends with a deadline when no first token comes in time, stopping every call', async () => {
    const a = scripted('anthropic', { ttftMs: 2000 });
    const b = scripted('openai', { ttftMs: 2000 });
    const t0 = Date.now();
    const err = await race([candidate('anthropic', a), candidate('openai', b)], { firstTokenDeadline: Date.now() + 100 }).promise.catch((e: unknown) => e);
    assert.ok(err instanceof RaceError);
    assert.equal(err.reason, 'deadline');
    assert.deepEqual(err.calls.map((c) => c.outcome), ['timeout', 'timeout']);
    assert.ok(Date.now() - t0 < 1500, 'did not wait for the providers');
    assert.equal(a.aborted() + b.aborted(), 2);
  });

  it('stops everything when cancelled', async () => {
    const ac = new AbortController();
    const a = scripted('anthropic', { ttftMs: 2000 });
    const { promise } = race([candidate('anthropic', a)], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const err = await promise.catch((e: unknown) => e);
    assert.ok(err instanceof RaceError);
    assert.equal(err.reason, 'cancelled');
    assert.equal(a.aborted(), 1);
  });
});

describe('provider health', () => {
  it('hedges after the primary’s recent p75 first-token latency once it has samples', () => {
    const h = createProviderHealth();
    assert.equal(h.hedgeDelay('anthropic', 'auto'), AUTO_HEDGE_INITIAL_MS);
    assert.equal(h.hedgeDelay('anthropic', 0), 0);
    for (let i = 1; i <= 20; i++) h.observeTtft('anthropic', i * 10);
    assert.equal(h.hedgeDelay('anthropic', 'auto'), 150);
  });

  it('starts a provider that sent Retry-After last until its time is up', () => {
    let now = 1000;
    const h = createProviderHealth(() => now);
    h.coolDown('anthropic', 30_000);
    assert.deepEqual(h.order(['anthropic', 'openai']), ['openai', 'anthropic']);
    now += 30_001;
    assert.deepEqual(h.order(['anthropic', 'openai']), ['anthropic', 'openai']);
  });
});
