// The offline model through the real Anthropic and OpenAI SDKs (and raw HTTP where the wire format itself
// is the point): streaming, usage, prompt-cache imitation, fault injection, profiles, and the rule engine.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { answerFor, ruleFor } from '../../infra/offline-model/rules.ts';
import {
  parseProfilesEnv,
  startOfflineModel,
  ZERO_LATENCY_PROFILE,
  type OfflineModel,
} from '../../infra/offline-model/server.ts';

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
    model = await startOfflineModel({
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
        const m = await startOfflineModel({ profiles: { anthropic: { ...ZERO_LATENCY_PROFILE, errorRate: 0.5, errorStatus: 500 } }, seed: 42 });
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
    const m = await startOfflineModel({ profiles: { openai: { ...ZERO_LATENCY_PROFILE, tokensPerSec: 2 } } });
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

describe('offline model rules', () => {
  const ask = (content: string, system = 'You are the shop assistant.') => ({ system, messages: [{ role: 'user' as const, content }] });
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

  it('greets and names what it can help with', () => {
    for (const q of ['hi', 'Hello!', 'good morning']) {
      assert.equal(ruleFor(ask(q)).name, 'greeting', q);
      const a = answerFor(ask(q));
      assert.match(a, /sales analytics/);
      assert.match(a, /polic/);
    }
    assert.match(answerFor(ask('good morning')), /^Good morning!/);
  });

  it('handles thanks, goodbye and capability questions; only the latter mentions the offline model', () => {
    assert.equal(ruleFor(ask('thanks!')).name, 'thanks-bye');
    assert.equal(ruleFor(ask('bye')).name, 'thanks-bye');
    assert.equal(ruleFor(ask('What can you do?')).name, 'capabilities');
    assert.match(answerFor(ask('What can you do?')), /\(offline model\)/);
    for (const q of ['hi', 'thanks', 'What were sales last week?', 'Tell me about your sustainability goals']) {
      assert.doesNotMatch(answerFor(ask(q)), /offline model/, q);
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
    assert.equal(ruleFor(req).name, 'context');
    const a = answerFor(req);
    assert.ok(a.includes('Returns are accepted within 30 days of delivery.'), a);
    assert.ok(!a.includes('Gift cards'), a);
  });

  it('says analytics data is unavailable when no context came, restating the question', () => {
    const a = answerFor(ask('What were the top products by revenue last month?'));
    assert.equal(ruleFor(ask('What were the top products by revenue last month?')).name, 'analytics-without-data');
    assert.match(a, /top products by revenue last month/);
    assert.match(a, /not available/);
  });

  it('falls back deterministically, within the answer length budget', () => {
    const questions = ['How do I bake bread?', 'hi', 'thanks', 'What can you do?', 'Compare sales by region this quarter', '', 'x'.repeat(500)];
    for (const q of questions) {
      const a = answerFor(ask(q));
      assert.equal(answerFor(ask(q)), a, 'same request, same answer');
      assert.ok(words(a) >= 20 && words(a) <= 120, `${words(a)} words for ${JSON.stringify(q.slice(0, 20))}`);
    }
    assert.equal(ruleFor(ask('How do I bake bread?')).name, 'fallback');
    assert.match(answerFor(ask('How do I bake bread?')), /bake bread/);
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
    assert.equal(ruleFor(req).name, 'greeting');
  });
});
