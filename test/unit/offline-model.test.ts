// The offline model through the real Anthropic and OpenAI SDKs (and raw HTTP where the wire format itself
// is the point): streaming, usage, prompt-cache imitation, fault injection, profiles, and the rule engine.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { CONTINUATION_INSTRUCTION } from '../../infra/llm/provider.ts';
import { answerFor, ruleFor } from '../../infra/dev/offline-model/rules.ts';
import {
  parseProfilesEnv,
  startOfflineModel,
  ZERO_LATENCY_PROFILE,
  type OfflineModel,
} from '../../infra/dev/offline-model/server.ts';
import { productRules } from '../../workers/offline-rules.ts';

const ZERO = { anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE };

/** A system prompt of well over 1024 approximate tokens, unique per `tag` so tests do not share cache entries. */
function longSystem(tag: string): string {
  return `Policy handbook ${tag}. ` + 'Orders ship within two business days and returns are accepted for thirty days. '.repeat(80);
}

/** Raw SSE frames of a response: `{ event, data }`. */
async function sseFrames(res: Response): Promise<{ event: string | null; data: string }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((f) => f.trim())
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null;
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '';
      return { event, data };
    });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('offline model server', () => {
  let model: OfflineModel;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const logged: string[] = [];

  before(async () => {
    model = await startOfflineModel({ product: productRules, 
      profiles: ZERO,
      seed: 7,
      logger: { info: (_o, msg) => logged.push(msg ?? ''), warn: (_o, msg) => logged.push(msg ?? '') },
    });
    anthropic = new Anthropic({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, maxRetries: 0 });
    openai = new OpenAI({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, maxRetries: 0 });
  });
  after(() => model.close());
  afterEach(() => {
    model.setProfile('anthropic', ZERO_LATENCY_PROFILE);
    model.setProfile('openai', ZERO_LATENCY_PROFILE);
  });

  it('says what it is: log line, health check, header and model name', async () => {
    assert.ok(logged.some((l) => /offline model/i.test(l) && /not an LLM/i.test(l)));
    const res = await fetch(`${model.url}/healthz`);
    assert.equal(res.headers.get('x-offline-model'), 'true');
    assert.deepEqual(await res.json(), { ok: true, offline: true });
  });

  describe('Anthropic Messages API', () => {
    const params = { model: 'claude-haiku-4-5', max_tokens: 500, messages: [{ role: 'user' as const, content: 'Hello there' }] };

    it('answers non-streaming with usage and model offline-model', async () => {
      const { data: msg, response } = await anthropic.messages.create(params).withResponse();
      assert.equal(response.headers.get('x-offline-model'), 'true');
      assert.equal(msg.model, 'offline-model');
      assert.equal(msg.stop_reason, 'end_turn');
      const block = msg.content[0];
      assert.equal(block?.type, 'text');
      assert.match(block.type === 'text' ? block.text : '', /^Hello!/);
      assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
      assert.equal(msg.usage.cache_read_input_tokens, 0);
      assert.equal(msg.usage.cache_creation_input_tokens, 0);
    });

    it('streams the same answer as several text deltas (SDK stream helper)', async () => {
      const whole = await anthropic.messages.create(params);
      const deltas: string[] = [];
      const stream = anthropic.messages.stream(params).on('text', (t) => deltas.push(t));
      const final = await stream.finalMessage();
      const text = whole.content[0]?.type === 'text' ? whole.content[0].text : '';
      assert.ok(deltas.length >= 10, `expected many deltas, got ${deltas.length}`);
      assert.equal(deltas.join(''), text);
      assert.equal(final.model, 'offline-model');
      assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
      assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
    });

    it('sends the SSE events in Anthropic order', async () => {
      const res = await fetch(`${model.url}/anthropic/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({ ...params, stream: true }),
      });
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const frames = await sseFrames(res);
      const types = frames.map((f) => f.event);
      assert.deepEqual(types.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
      assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
      assert.ok(types.slice(3, -3).every((t) => t === 'content_block_delta'));
      for (const f of frames) assert.equal(JSON.parse(f.data).type, f.event);
      const start = JSON.parse(frames[0]!.data);
      assert.deepEqual(Object.keys(start.message.usage).sort(), [
        'cache_creation_input_tokens',
        'cache_read_input_tokens',
        'input_tokens',
        'output_tokens',
      ]);
      const delta = JSON.parse(frames.at(-2)!.data);
      assert.equal(delta.delta.stop_reason, 'end_turn');
      assert.ok(delta.usage.output_tokens > 0);
    });

    it('imitates prompt caching for cache_control prefixes of at least 1024 tokens', async () => {
      const system = [{ type: 'text' as const, text: longSystem('anthropic-direct'), cache_control: { type: 'ephemeral' as const } }];
      const first = await anthropic.messages.create({ ...params, system });
      const second = await anthropic.messages.create({ ...params, system, messages: [{ role: 'user', content: 'What is the return policy?' }] });
      assert.ok((first.usage.cache_creation_input_tokens ?? 0) >= 1024);
      assert.equal(first.usage.cache_read_input_tokens, 0);
      assert.equal(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
      assert.equal(second.usage.cache_creation_input_tokens, 0);
      assert.ok(second.usage.input_tokens < 50, 'input_tokens excludes the cached prefix');

      const uncached = await anthropic.messages.create({ ...params, system: longSystem('anthropic-no-marker') });
      const again = await anthropic.messages.create({ ...params, system: longSystem('anthropic-no-marker') });
      assert.equal(again.usage.cache_read_input_tokens, 0, 'no cache_control, no caching');
      assert.equal(again.usage.input_tokens, uncached.usage.input_tokens);

      const short = [{ type: 'text' as const, text: 'Short prompt.', cache_control: { type: 'ephemeral' as const } }];
      await anthropic.messages.create({ ...params, system: short });
      const shortAgain = await anthropic.messages.create({ ...params, system: short });
      assert.equal(shortAgain.usage.cache_read_input_tokens, 0, 'below 1024 tokens nothing is cached');
    });

    it('answers a malformed request with a 400 in Anthropic error shape', async () => {
      await assert.rejects(
        anthropic.messages.create({ model: 'x', max_tokens: 10, messages: [] }),
        (err: unknown) => {
          assert.ok(err instanceof Anthropic.BadRequestError);
          assert.equal(err.status, 400);
          assert.equal(err.type, 'invalid_request_error');
          return true;
        },
      );
      const res = await fetch(`${model.url}/anthropic/v1/messages`, { method: 'POST', body: '{not json' });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
    });

    it('injects errors with the configured status', async () => {
      model.setProfile('anthropic', { errorRate: 1, errorStatus: 529 });
      await assert.rejects(anthropic.messages.create(params), (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.status, 529);
        assert.equal(err.type, 'overloaded_error');
        return true;
      });
      assert.ok((model.stats().errors['anthropic:529'] ?? 0) >= 1);
    });

    it('stops at max_tokens like a model hitting its limit', async () => {
      const msg = await anthropic.messages.create({ ...params, max_tokens: 8 });
      assert.equal(msg.stop_reason, 'max_tokens');
      assert.ok(msg.usage.output_tokens <= 8);
    });
  });

  describe('OpenAI Chat Completions API', () => {
    const params = {
      model: 'gpt-4.1-mini',
      messages: [
        { role: 'system' as const, content: 'You are the shop assistant.' },
        { role: 'user' as const, content: 'Hello' },
      ],
    };

    it('streams the same answer as the non-streaming call, with a usage chunk and [DONE]', async () => {
      const whole = await openai.chat.completions.create(params);
      assert.equal(whole.model, 'offline-model');
      assert.equal(whole.object, 'chat.completion');
      assert.equal(whole.choices[0]?.finish_reason, 'stop');
      assert.ok(whole.usage && whole.usage.prompt_tokens > 0 && whole.usage.completion_tokens > 0);
      assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

      const stream = await openai.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      const deltas: string[] = [];
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        assert.equal(chunk.model, 'offline-model');
        const d = chunk.choices[0]?.delta?.content;
        if (d) deltas.push(d);
        if (chunk.usage) {
          usage = chunk.usage;
          assert.equal(chunk.choices.length, 0, 'the usage chunk has no choices');
        }
      }
      assert.ok(deltas.length >= 10);
      assert.equal(deltas.join(''), whole.choices[0]?.message.content);
      assert.deepEqual(usage, whole.usage);

      const raw = await fetch(`${model.url}/openai/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...params, stream: true }) });
      const frames = await sseFrames(raw);
      assert.equal(frames.at(-1)?.data, '[DONE]');
      assert.ok(frames.slice(0, -1).every((f) => !('usage' in JSON.parse(f.data))), 'no usage without include_usage');
    });

    it('reports cached_tokens for a repeated long prefix, in 128-token steps', async () => {
      const messages = [
        { role: 'system' as const, content: longSystem('openai-direct') },
        { role: 'user' as const, content: 'Hello' },
      ];
      const first = await openai.chat.completions.create({ model: 'gpt-4.1', messages });
      const second = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [...messages.slice(0, 1), { role: 'user', content: 'Returns?' }] });
      assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
      const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
      assert.ok(cached >= 1024, `cached ${cached}`);
      assert.equal(cached % 128, 0);
      assert.ok(cached <= (second.usage?.prompt_tokens ?? 0));
    });

    it('answers a malformed request with a 400 in OpenAI error shape', async () => {
      await assert.rejects(openai.chat.completions.create({ model: 'x', messages: [] }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal(err.status, 400);
        assert.equal(err.type, 'invalid_request_error');
        return true;
      });
    });

    it('injects errors with the configured status', async () => {
      model.setProfile('openai', { errorRate: 1, errorStatus: 503 });
      await assert.rejects(openai.chat.completions.create(params), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 503);
        return true;
      });
    });
  });

  describe('profiles', () => {
    it('are read and changed over HTTP, and bad changes are refused', async () => {
      const put = await fetch(`${model.url}/_offline/profiles`, {
        method: 'PUT',
        body: JSON.stringify({ openai: { ttftMs: 123, jitterMs: 0 } }),
      });
      assert.equal(put.status, 200);
      const got = (await (await fetch(`${model.url}/_offline/profiles`)).json()) as ReturnType<OfflineModel['profiles']>;
      assert.equal(got.openai.ttftMs, 123);
      assert.equal(got.anthropic.ttftMs, 0, 'the other provider is untouched');
      assert.equal(model.profiles().openai.ttftMs, 123);

      for (const bad of [{ openai: { errorRate: 2 } }, { openai: { ttfMs: 1 } }, { gemini: {} }]) {
        const res = await fetch(`${model.url}/_offline/profiles`, { method: 'PUT', body: JSON.stringify(bad) });
        assert.equal(res.status, 400, JSON.stringify(bad));
      }
      assert.equal(model.profiles().openai.errorRate, 0);
    });

    it('ttftMs delays the first token (lower bound only)', async () => {
      model.setProfile('anthropic', { ttftMs: 300 });
      const t0 = performance.now();
      let first: number | null = null;
      await anthropic.messages
        .stream({ model: 'x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
        .on('text', () => (first ??= performance.now() - t0))
        .finalMessage();
      assert.ok(first !== null && first >= 250, `first token after ${first} ms`);
    });

    it('a stall pauses the stream after its first token (lower bound only)', async () => {
      model.setProfile('openai', { stallRate: 1, stallMs: 250 });
      const times: number[] = [];
      const stream = await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) times.push(performance.now());
      assert.ok(times.length > 2);
      assert.ok(times[1]! - times[0]! >= 200, `gap ${times[1]! - times[0]!} ms`);
    });

    it('faults are reproducible from the seed', async () => {
      const outcomes = async () => {
        const m = await startOfflineModel({ product: productRules,  profiles: { anthropic: { ...ZERO_LATENCY_PROFILE, errorRate: 0.5, errorStatus: 500 } }, seed: 42 });
        const client = new Anthropic({ apiKey: 'offline', baseURL: `${m.url}/anthropic`, maxRetries: 0 });
        const out: boolean[] = [];
        for (let i = 0; i < 16; i++) {
          out.push(
            await client.messages.create({ model: 'x', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).then(
              () => true,
              () => false,
            ),
          );
        }
        await m.close();
        return out;
      };
      const a = await outcomes();
      assert.deepEqual(await outcomes(), a);
      assert.ok(a.includes(true) && a.includes(false), 'a 0.5 error rate yields both outcomes');
    });

    it('parseProfilesEnv accepts partial profiles and names the variable when it fails', () => {
      assert.deepEqual(parseProfilesEnv(undefined), {});
      assert.deepEqual(parseProfilesEnv('  '), {});
      assert.deepEqual(parseProfilesEnv('{"anthropic":{"ttftMs":0,"tokensPerSec":0}}'), { anthropic: { ttftMs: 0, tokensPerSec: 0 } });
      assert.throws(() => parseProfilesEnv('{nope'), /OFFLINE_MODEL_PROFILES.*JSON/);
      assert.throws(() => parseProfilesEnv('{"anthropic":{"ttftMs":-1}}'), /OFFLINE_MODEL_PROFILES/);
      assert.throws(() => parseProfilesEnv('{"anthropc":{}}'), /OFFLINE_MODEL_PROFILES/);
    });
  });

  it('stops writing and counts an abort when the client hangs up', async () => {
    model.setProfile('anthropic', { tokensPerSec: 20 });
    const before = model.stats().aborted;
    const ac = new AbortController();
    const res = await fetch(`${model.url}/anthropic/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ model: 'x', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'hello' }] }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await until(() => model.stats().aborted > before);
  });

  it('close() ends open streams', async () => {
    const m = await startOfflineModel({ product: productRules,  profiles: { openai: { ...ZERO_LATENCY_PROFILE, tokensPerSec: 2 } } });
    const client = new OpenAI({ apiKey: 'offline', baseURL: `${m.url}/openai/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await m.close();
    await assert.rejects(async () => {
      for (let r = await iterator.next(); !r.done; r = await iterator.next());
    });
  });
});

/** Times of a raw streaming call from its start: to the response headers, and to the first content delta. */
interface StreamTimes {
  headers: number;
  content: number;
  /** Everything the stream carried before its first content delta. */
  beforeContent: string;
  text: string;
}

const CONTENT_MARKERS = { anthropic: 'event: content_block_delta', openai: '"delta":{"content":"' } as const;

async function streamTimes(model: OfflineModel, provider: 'anthropic' | 'openai', body: object = {}): Promise<StreamTimes> {
  const url = provider === 'anthropic' ? `${model.url}/anthropic/v1/messages` : `${model.url}/openai/v1/chat/completions`;
  const base =
    provider === 'anthropic' ? { model: 'x', max_tokens: 500, messages: [{ role: 'user', content: 'hello' }] } : { model: 'x', messages: [{ role: 'user', content: 'hello' }] };
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ ...base, ...body, stream: true }) });
  const headers = performance.now() - t0;
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const marker = CONTENT_MARKERS[provider];
  let text = '';
  let content: number | null = null;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    text += decoder.decode(r.value, { stream: true });
    if (content === null && text.includes(marker)) content = performance.now() - t0;
  }
  assert.ok(content !== null, 'the stream carried content');
  // Whole frames only: the marker may sit inside its frame (OpenAI's is in the JSON).
  return { headers, content, beforeContent: text.slice(0, text.lastIndexOf('\n\n', text.indexOf(marker)) + 2), text };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('offline model: latency tails, early headers, retry-after, continuation and stats', () => {
  let model: OfflineModel;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    model = await startOfflineModel({ product: productRules,  profiles: ZERO, seed: 11 });
    anthropic = new Anthropic({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, maxRetries: 0 });
    openai = new OpenAI({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, maxRetries: 0 });
  });
  after(() => model.close());
  afterEach(() => {
    model.setProfile('anthropic', ZERO_LATENCY_PROFILE);
    model.setProfile('openai', ZERO_LATENCY_PROFILE);
  });

  describe('profile fields', () => {
    it('are accepted by OFFLINE_MODEL_PROFILES and PUT /_offline/profiles, validated, and null unsets', async () => {
      const fields = { ttftSigma: 0.5, slowRate: 0.1, slowFactor: 4, tpsSigma: 0.3, headersMs: 50, retryAfterSec: 2, stallAfterTokens: 5 };
      assert.deepEqual(parseProfilesEnv(JSON.stringify({ openai: fields })), { openai: fields });
      assert.deepEqual(model.profiles().anthropic, ZERO_LATENCY_PROFILE);
      assert.equal(model.profiles().anthropic.headersMs, null, 'unset by default');
      assert.equal(model.profiles().anthropic.slowFactor, 1);
      assert.equal(model.profiles().anthropic.stallAfterTokens, 1);

      const put = await fetch(`${model.url}/_offline/profiles`, { method: 'PUT', body: JSON.stringify({ anthropic: fields }) });
      assert.equal(put.status, 200);
      assert.deepEqual(model.profiles().anthropic, { ...ZERO_LATENCY_PROFILE, ...fields });
      const unset = await fetch(`${model.url}/_offline/profiles`, { method: 'PUT', body: JSON.stringify({ anthropic: { headersMs: null, retryAfterSec: null } }) });
      assert.equal(unset.status, 200);
      assert.equal(model.profiles().anthropic.headersMs, null);
      assert.equal(model.profiles().anthropic.retryAfterSec, null);

      for (const bad of [{ slowRate: 2 }, { slowFactor: 0.5 }, { ttftSigma: -1 }, { tpsSigma: -0.1 }, { headersMs: -1 }, { retryAfterSec: -1 }, { stallAfterTokens: 0 }, { stallAfterTokens: 1.5 }]) {
        const res = await fetch(`${model.url}/_offline/profiles`, { method: 'PUT', body: JSON.stringify({ openai: bad }) });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.throws(() => parseProfilesEnv(JSON.stringify({ openai: bad })), /OFFLINE_MODEL_PROFILES/, JSON.stringify(bad));
      }
    });

    it('the seeded fault sequence does not depend on the latency fields (a fixed number of draws per request)', async () => {
      const outcomes = async (extra: object) => {
        const m = await startOfflineModel({ product: productRules,  profiles: { anthropic: { ...ZERO_LATENCY_PROFILE, errorRate: 0.5, errorStatus: 500, ...extra } }, seed: 42 });
        const client = new Anthropic({ apiKey: 'offline', baseURL: `${m.url}/anthropic`, maxRetries: 0 });
        const out: boolean[] = [];
        for (let i = 0; i < 16; i++) {
          out.push(await client.messages.create({ model: 'x', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).then(() => true, () => false));
        }
        await m.close();
        return out;
      };
      const plain = await outcomes({});
      // ttftMs and tokensPerSec stay 0, so the tails change no timing here, only (if they drew differently) the sequence.
      assert.deepEqual(await outcomes({ ttftSigma: 1, slowRate: 0.5, slowFactor: 3, tpsSigma: 1, stallRate: 0.5, jitterMs: 0 }), plain);
      assert.ok(plain.includes(true) && plain.includes(false));
    });
  });

  describe('latency tails', () => {
    it('slowRate 1 with slowFactor 3 makes the TTFT about three times ttftMs', async () => {
      model.setProfile('anthropic', { ttftMs: 40 });
      const base: number[] = [];
      for (let i = 0; i < 5; i++) base.push((await streamTimes(model, 'anthropic')).content);
      model.setProfile('anthropic', { ttftMs: 40, slowRate: 1, slowFactor: 3 });
      const slow: number[] = [];
      for (let i = 0; i < 5; i++) slow.push((await streamTimes(model, 'anthropic')).content);
      assert.ok(Math.min(...slow) >= 110, `slow TTFTs ${slow.map(Math.round).join(', ')} ms`);
      assert.ok(median(slow) / median(base) >= 1.6, `medians ${Math.round(median(base))} → ${Math.round(median(slow))} ms`);
    });

    it('ttftSigma spreads the TTFT around a median that stays near ttftMs (lower bounds only)', async () => {
      model.setProfile('openai', { ttftMs: 30, ttftSigma: 0.6 });
      const ttfts: number[] = [];
      for (let i = 0; i < 40; i++) ttfts.push((await streamTimes(model, 'openai')).content);
      const m = median(ttfts);
      assert.ok(m >= 20, `median ${m.toFixed(1)} ms`);
      // Without the spread every TTFT would be 30 ms; with it about a quarter of 40 seeded draws exceed 1.5×.
      assert.ok(ttfts.filter((t) => t >= 45).length >= 3, `TTFTs ${ttfts.map(Math.round).join(', ')} ms`);
    });

    it('tpsSigma varies the pace per request', async () => {
      model.setProfile('anthropic', { tokensPerSec: 400, tpsSigma: 0.8 });
      const durations: number[] = [];
      for (let i = 0; i < 10; i++) {
        const start = performance.now();
        await anthropic.messages.create({ model: 'x', max_tokens: 500, messages: [{ role: 'user', content: 'hello' }] });
        durations.push(performance.now() - start);
      }
      assert.ok(Math.max(...durations) / Math.min(...durations) >= 1.5, `durations ${durations.map(Math.round).join(', ')} ms`);
    });
  });

  describe('headersMs', () => {
    for (const provider of ['anthropic', 'openai'] as const) {
      it(`${provider}: sends status, headers and the first frames before the first content token`, async () => {
        model.setProfile(provider, { ttftMs: 300, headersMs: 20 });
        const early = await streamTimes(model, provider);
        assert.ok(early.content >= 250, `content after ${Math.round(early.content)} ms`);
        assert.ok(early.content - early.headers >= 100, 'first response and first content are apart');
        if (provider === 'anthropic') {
          const events = [...early.beforeContent.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
          assert.deepEqual(events, ['message_start', 'content_block_start', 'ping']);
        } else {
          const chunks = early.beforeContent.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
          assert.equal(chunks.length, 1);
          assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
        }

        // Unset: headers leave with the first content token.
        model.setProfile(provider, { ttftMs: 300, headersMs: null });
        const late = await streamTimes(model, provider);
        assert.ok(late.headers >= 250, `headers after ${Math.round(late.headers)} ms`);
      });
    }

    it('is capped at the TTFT, and a non-streaming response still takes as long as the stream', async () => {
      model.setProfile('openai', { ttftMs: 150, headersMs: 5000 });
      const t = await streamTimes(model, 'openai');
      // Capped: at the 150 ms TTFT, not at the 5 s headersMs.
      assert.ok(t.headers >= 100 && t.headers < 5000, `headers after ${Math.round(t.headers)} ms`);
      const t0 = performance.now();
      await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }] });
      assert.ok(performance.now() - t0 >= 120);
    });
  });

  describe('retry-after on injected errors', () => {
    it('anthropic 429 and 529 carry retry-after when retryAfterSec is set', async () => {
      for (const status of [429, 529]) {
        model.setProfile('anthropic', { errorRate: 1, errorStatus: status, retryAfterSec: 3 });
        await assert.rejects(anthropic.messages.create({ model: 'x', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
          assert.ok(err instanceof Anthropic.APIError);
          assert.equal(err.status, status);
          assert.equal(err.headers?.get('retry-after'), '3');
          return true;
        });
      }
      model.setProfile('anthropic', { errorRate: 1, errorStatus: 529, retryAfterSec: null });
      await assert.rejects(anthropic.messages.create({ model: 'x', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.headers?.get('retry-after'), null, 'no header when unset');
        return true;
      });
    });

    it('openai 429 and 503 carry retry-after when retryAfterSec is set', async () => {
      for (const status of [429, 503]) {
        model.setProfile('openai', { errorRate: 1, errorStatus: status, retryAfterSec: 1.5 });
        await assert.rejects(openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }], stream: true }), (err: unknown) => {
          assert.ok(err instanceof OpenAI.APIError);
          assert.equal(err.status, status);
          assert.equal(err.headers?.get('retry-after'), '1.5');
          return true;
        });
      }
    });
  });

  describe('stallAfterTokens', () => {
    it('stalls after that many content pieces, in streams and in non-streaming durations', async () => {
      model.setProfile('openai', { stallRate: 1, stallMs: 250, stallAfterTokens: 3 });
      const times: number[] = [];
      const stream = await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }], stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) times.push(performance.now());
      assert.ok(times.length > 4);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      const longest = gaps.indexOf(Math.max(...gaps));
      assert.equal(longest, 2, `the gap after the third piece is the stall: ${gaps.map(Math.round).join(', ')} ms`);
      assert.ok(gaps[2]! >= 200);

      const t0 = performance.now();
      await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }] });
      assert.ok(performance.now() - t0 >= 200, 'the non-streaming response waits for the stall too');
      model.setProfile('openai', { stallRate: 1, stallMs: 2000, stallAfterTokens: 10_000 });
      const t1 = performance.now();
      await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }] });
      assert.ok(performance.now() - t1 < 2000, 'no stall (of 2 s) when the answer ends first');
    });
  });

  describe('continuation of an interrupted answer', () => {
    const system = 'You are the shop assistant.';
    const question = [{ role: 'user' as const, content: 'Hello there' }];
    /** The answer cut after `words` words, with the whitespace that followed them. */
    const cut = (text: string, words: number) => {
      const head = new RegExp(`^(?:\\s*\\S+\\s+){${words}}`).exec(text)?.[0];
      assert.ok(head && head.length < text.length, `the answer has more than ${words} words`);
      return head;
    };

    it('anthropic: an assistant prefill gets only the rest, so prefill + reply is the whole answer', async () => {
      const whole = await anthropic.messages.create({ model: 'x', max_tokens: 500, system, messages: question });
      const full = whole.content[0]?.type === 'text' ? whole.content[0].text : '';
      const prefill = cut(full, 6).trimEnd(); // callers trim: Anthropic refuses trailing whitespace in a prefill
      const messages = [...question, { role: 'assistant' as const, content: prefill }];

      const rest = await anthropic.messages.create({ model: 'x', max_tokens: 500, system, messages });
      const reply = rest.content[0]?.type === 'text' ? rest.content[0].text : '';
      assert.match(reply, /^\s/, 'the remainder keeps its leading whitespace');
      assert.equal(prefill + reply, full);
      assert.equal(rest.stop_reason, 'end_turn');
      assert.ok(rest.usage.input_tokens > whole.usage.input_tokens, 'the prompt tokens include the prefill');
      assert.ok(rest.usage.output_tokens < whole.usage.output_tokens, 'the output is only the rest');

      const deltas: string[] = [];
      await anthropic.messages.stream({ model: 'x', max_tokens: 500, system, messages }).on('text', (t) => deltas.push(t)).finalMessage();
      assert.equal(prefill + deltas.join(''), full, 'streamed too');

      const limited = await anthropic.messages.create({ model: 'x', max_tokens: 5, system, messages });
      const part = limited.content[0]?.type === 'text' ? limited.content[0].text : '';
      assert.equal(limited.stop_reason, 'max_tokens', 'max_tokens applies to the reply');
      assert.ok(limited.usage.output_tokens <= 5);
      assert.ok(reply.startsWith(part));

      const other = await anthropic.messages.create({ model: 'x', max_tokens: 500, system, messages: [...question, { role: 'assistant', content: 'Something else entirely' }] });
      assert.equal(other.content[0]?.type === 'text' ? other.content[0].text : '', full, 'a prefill the answer does not start with gets the whole answer');
    });

    it('openai: a partial answer plus CONTINUATION_INSTRUCTION gets only the rest, streamed or not', async () => {
      const whole = await openai.chat.completions.create({ model: 'x', messages: [{ role: 'system', content: system }, ...question] });
      const full = whole.choices[0]?.message.content ?? '';
      for (const partial of [cut(full, 4), cut(full, 9).trimEnd()]) {
        const messages = [
          { role: 'system' as const, content: system },
          ...question,
          { role: 'assistant' as const, content: partial },
          { role: 'user' as const, content: CONTINUATION_INSTRUCTION },
        ];
        const rest = await openai.chat.completions.create({ model: 'x', messages });
        assert.equal(partial + (rest.choices[0]?.message.content ?? ''), full, JSON.stringify(partial));
        assert.equal(rest.choices[0]?.finish_reason, 'stop');
        assert.ok((rest.usage?.prompt_tokens ?? 0) > (whole.usage?.prompt_tokens ?? 0), 'the prompt tokens include the partial');
        assert.ok((rest.usage?.completion_tokens ?? 0) < (whole.usage?.completion_tokens ?? 0));

        const stream = await openai.chat.completions.create({ model: 'x', messages, stream: true });
        let streamed = '';
        for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
        assert.equal(partial + streamed, full);
      }
      // Without the instruction it is an ordinary conversation ending with a user message, answered in full.
      const ordinary = await openai.chat.completions.create({
        model: 'x',
        messages: [{ role: 'system', content: system }, ...question, { role: 'assistant', content: cut(full, 4) }, { role: 'user', content: 'hello' }],
      });
      assert.match(ordinary.choices[0]?.message.content ?? '', /^Hello!/);
    });

    it('across providers: an Anthropic partial is finished by OpenAI', async () => {
      const whole = await anthropic.messages.create({ model: 'x', max_tokens: 500, system, messages: question });
      const full = whole.content[0]?.type === 'text' ? whole.content[0].text : '';
      const partial = cut(full, 7);
      const rest = await openai.chat.completions.create({
        model: 'x',
        messages: [{ role: 'system', content: system }, ...question, { role: 'assistant', content: partial }, { role: 'user', content: CONTINUATION_INSTRUCTION }],
      });
      assert.equal(partial + (rest.choices[0]?.message.content ?? ''), full);
    });
  });

  describe('stats', () => {
    it('abortedByProvider counts the provider whose response the client hung up on', async () => {
      model.setProfile('openai', { tokensPerSec: 20 });
      const before = model.stats().abortedByProvider;
      const ac = new AbortController();
      const stream = await openai.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hello' }], stream: true }, { signal: ac.signal });
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      ac.abort();
      await until(() => model.stats().abortedByProvider.openai > before.openai);
      assert.equal(model.stats().abortedByProvider.anthropic, before.anthropic);
    });

    it('POST /_offline/reset-stats and resetStats() zero the counters', async () => {
      await anthropic.messages.create({ model: 'counted', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
      assert.ok((model.stats().requests['anthropic'] ?? 0) > 0);
      const zero = { requests: {}, errors: {}, aborted: 0, abortedByProvider: { anthropic: 0, openai: 0 }, models: {} };
      const res = await fetch(`${model.url}/_offline/reset-stats`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), zero);
      assert.deepEqual(model.stats(), zero);
      assert.deepEqual(await (await fetch(`${model.url}/_offline/stats`)).json(), zero);

      await anthropic.messages.create({ model: 'counted', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(model.stats().requests['anthropic'], 1);
      assert.equal(model.stats().models['counted'], 1);
      model.resetStats();
      assert.deepEqual(model.stats(), zero);
    });

    it('GET /_offline/requests lists the latest chat requests as received, oldest first; reset-stats forgets them', async () => {
      model.resetStats();
      await anthropic.messages.create({
        model: 'seen-a',
        max_tokens: 50,
        system: [{ type: 'text', text: 'Stable part' }, { type: 'text', text: 'Per request' }],
        messages: [{ role: 'user', content: 'first question' }],
      });
      await openai.chat.completions.create({ model: 'seen-o', messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'second question' }] });
      const { requests } = (await (await fetch(`${model.url}/_offline/requests`)).json()) as { requests: { provider: string; model: string; system: string; messages: unknown[] }[] };
      assert.deepEqual(
        requests.map(({ provider, model, system, messages }) => ({ provider, model, system, messages })),
        [
          { provider: 'anthropic', model: 'seen-a', system: 'Stable part\nPer request', messages: [{ role: 'user', content: 'first question' }] },
          { provider: 'openai', model: 'seen-o', system: 'Be brief', messages: [{ role: 'user', content: 'second question' }] },
        ],
      );
      assert.deepEqual(model.requests().map((r) => r.model), ['seen-a', 'seen-o']);
      for (let i = 0; i < 55; i++) await openai.chat.completions.create({ model: `m${i}`, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(model.requests().length, 50, 'only the latest 50 are kept');
      assert.equal(model.requests().at(-1)?.model, 'm54');
      await fetch(`${model.url}/_offline/reset-stats`, { method: 'POST' });
      assert.deepEqual(model.requests(), []);
    });
  });
});

describe('offline model rules', () => {
  const ask = (content: string, system = 'You are the shop assistant.') => ({ system, messages: [{ role: 'user' as const, content }] });
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

  it('greets and names what it can help with', () => {
    for (const q of ['hi', 'Hello!', 'good morning']) {
      assert.equal(ruleFor(ask(q), productRules).name, 'greeting', q);
      const a = answerFor(ask(q), productRules);
      assert.match(a, /sales analytics/);
      assert.match(a, /polic/);
    }
    assert.match(answerFor(ask('good morning'), productRules), /^Good morning!/);
  });

  it('handles thanks, goodbye and capability questions; only the latter mentions the offline model', () => {
    assert.equal(ruleFor(ask('thanks!'), productRules).name, 'thanks-bye');
    assert.equal(ruleFor(ask('bye'), productRules).name, 'thanks-bye');
    assert.equal(ruleFor(ask('What can you do?'), productRules).name, 'capabilities');
    assert.match(answerFor(ask('What can you do?'), productRules), /\(offline model\)/);
    for (const q of ['hi', 'thanks', 'What were sales last week?', 'Tell me about your sustainability goals']) {
      assert.doesNotMatch(answerFor(ask(q), productRules), /offline model/, q);
    }
  });

  it('answers from the <context> block with its most relevant sentences', () => {
    const context = [
      'Orders ship within 2 business days.',
      'Standard shipping is free on orders over $50.',
      'Returns are accepted within 30 days of delivery.',
      'Refunds are issued to the original payment method within 5 business days.',
      'Gift cards cannot be exchanged for cash.',
    ].join(' ');
    const req = ask('How many days do I have to return an item?', `You are the shop assistant.\n<context>\n${context}\n</context>`);
    assert.equal(ruleFor(req, productRules).name, 'context');
    const a = answerFor(req, productRules);
    assert.ok(a.includes('Returns are accepted within 30 days of delivery.'), a);
    assert.ok(!a.includes('Gift cards'), a);
  });

  it('says analytics data is unavailable when no context came, restating the question', () => {
    const a = answerFor(ask('What were the top products by revenue last month?'), productRules);
    assert.equal(ruleFor(ask('What were the top products by revenue last month?'), productRules).name, 'analytics-without-data');
    assert.match(a, /top products by revenue last month/);
    assert.match(a, /not available/);
  });

  it('falls back deterministically, within the answer length budget', () => {
    const questions = ['How do I bake bread?', 'hi', 'thanks', 'What can you do?', 'Compare sales by region this quarter', '', 'x'.repeat(500)];
    for (const q of questions) {
      const a = answerFor(ask(q), productRules);
      assert.equal(answerFor(ask(q), productRules), a, 'same request, same answer');
      assert.ok(words(a) >= 20 && words(a) <= 120, `${words(a)} words for ${JSON.stringify(q.slice(0, 20))}`);
    }
    assert.equal(ruleFor(ask('How do I bake bread?'), productRules).name, 'fallback');
    assert.match(answerFor(ask('How do I bake bread?'), productRules), /bake bread/);
  });

  it('uses the last user message of a conversation as the question', () => {
    const req = {
      system: '',
      messages: [
        { role: 'user' as const, content: 'What were sales last week?' },
        { role: 'assistant' as const, content: 'I do not have that data.' },
        { role: 'user' as const, content: 'hello' },
      ],
    };
    assert.equal(ruleFor(req, productRules).name, 'greeting');
  });
});
