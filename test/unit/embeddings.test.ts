// The local embedder, its OpenAI embeddings endpoint on the offline model, and the product's embeddings
// client through the real openai SDK: both encodings, order, determinism, errors, stats, and whether
// paraphrases of shop questions land closer together than unrelated questions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createOpenAIEmbedder, type Embedder } from '../../infra/llm/embeddings.ts';
import { ProviderAbortError, ProviderError } from '../../infra/llm/provider.ts';
import { embedText, LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL } from '../../infra/llm/local-embedder.ts';
import { startOfflineModel, ZERO_LATENCY_PROFILE, type OfflineModel } from '../../infra/dev/offline-model/server.ts';
import { productRules } from '../../workers/offline-rules.ts';

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function cosine(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0) / (norm(a) * norm(b));
}

/** Decodes OpenAI's base64 embedding: little-endian float32s. */
function decodeBase64(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return Array.from({ length: buf.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

const PARAPHRASES: [string, string][] = [
  ['What were our sales last week?', 'How much revenue did we make last week?'],
  ['What were our sales last week?', "last week's revenue please"],
  ['Top 5 products by revenue this month', 'Which 5 products made the most money this month?'],
  ["What's your return policy?", 'How do returns work?'],
  ['Where is my order 12345?', "What's the status of order #12345?"],
  ['How much does shipping cost?', 'What are the delivery fees?'],
];
const UNRELATED: [string, string][] = [
  ['What were our sales last week?', "What's your return policy?"],
  ['Hello!', 'Where is my order 12345?'],
  ['Top 5 products by revenue', 'Do you offer gift wrapping?'],
  ['What payment methods do you accept?', 'Revenue by region last quarter'],
];

describe('local embedder', () => {
  it('returns unit vectors of 256 dimensions, the same for the same text', () => {
    for (const text of ['What were sales last week?', 'x', 'Ünïcödé ｆｕｌｌｗｉｄｔｈ 🙂', 'a'.repeat(20_000)]) {
      const v = embedText(text);
      assert.equal(v.length, LOCAL_EMBEDDING_DIMENSIONS);
      assert.ok(Math.abs(norm(v) - 1) < 1e-9, `norm of ${JSON.stringify(text.slice(0, 20))}`);
      assert.deepEqual(embedText(text), v);
    }
  });

  it('maps text with nothing to embed to a fixed unit vector instead of throwing', () => {
    const fixed = [1, ...new Array<number>(LOCAL_EMBEDDING_DIMENSIONS - 1).fill(0)];
    assert.deepEqual(embedText(''), fixed);
    assert.deepEqual(embedText('  ?! '), fixed);
    assert.deepEqual(embedText(undefined as unknown as string), fixed);
  });

  it('keeps paraphrases close and unrelated questions apart', () => {
    const para = PARAPHRASES.map(([a, b]) => cosine(embedText(a), embedText(b)));
    const unrel = UNRELATED.map(([a, b]) => cosine(embedText(a), embedText(b)));
    for (const [i, c] of para.entries()) assert.ok(c >= 0.9, `paraphrase ${PARAPHRASES[i]!.join(' / ')}: ${c.toFixed(3)}`);
    for (const [i, c] of unrel.entries()) assert.ok(c <= 0.3, `unrelated ${UNRELATED[i]!.join(' / ')}: ${c.toFixed(3)}`);
  });

  it('keeps numbers, ids and time ranges as features', () => {
    const same = cosine(embedText('What were sales last week?'), embedText('How much did we sell last week?'));
    for (const [a, b] of [
      ['What were sales last week?', 'What were sales last month?'],
      ['Sales the week before last', 'Sales last week'],
      ['Top 5 products by revenue this month', 'Top 10 products by revenue this month'],
      ['Where is my order 123?', 'Where is my order 124?'],
    ] as const) {
      const c = cosine(embedText(a), embedText(b));
      assert.ok(c < same - 0.15, `${a} / ${b}: ${c.toFixed(3)} vs paraphrase ${same.toFixed(3)}`);
    }
  });

  it('tolerates a typo in a lexicon word', () => {
    assert.ok(cosine(embedText('revnue last week'), embedText('revenue last week')) > 0.95);
    assert.ok(cosine(embedText('shiping costs'), embedText('shipping cost')) > 0.95);
  });
});

describe('embeddings against the offline model', () => {
  let model: OfflineModel;
  let embedder: Embedder;
  let openai: OpenAI;

  before(async () => {
    model = await startOfflineModel({ product: productRules,  profiles: { anthropic: ZERO_LATENCY_PROFILE, openai: ZERO_LATENCY_PROFILE }, seed: 5 });
    embedder = createOpenAIEmbedder({
      apiKey: 'offline',
      baseURL: `${model.url}/openai/v1`,
      model: LOCAL_EMBEDDING_MODEL,
      dimensions: LOCAL_EMBEDDING_DIMENSIONS,
    });
    openai = new OpenAI({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, maxRetries: 0 });
  });
  after(() => model.close());

  it('embeds a batch in order: unit vectors equal to the local embedder’s, rounded', async () => {
    const texts = ['What were sales last week?', "What's your return policy?", 'Hello!'];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, 3);
    for (const [i, v] of vectors.entries()) {
      assert.equal(v.length, LOCAL_EMBEDDING_DIMENSIONS);
      assert.ok(Math.abs(norm(v) - 1) < 1e-4);
      const local = embedText(texts[i]!);
      assert.ok(v.every((x, j) => Math.abs(x - local[j]!) < 2e-6), `vector ${i} differs from embedText`);
      assert.ok(v.every((x) => Math.round(x * 1e6) / 1e6 === x), 'rounded to 6 decimals');
    }
    const reversed = await embedder.embed([...texts].reverse());
    assert.deepEqual(reversed, [...vectors].reverse());
    assert.deepEqual(await embedder.embed(texts), vectors);
    assert.deepEqual(await embedder.embed([]), []);
  });

  it('answers float and base64 encodings with the same float32 numbers, in OpenAI’s shape', async () => {
    const input = ['Top 5 products by revenue this month', 'Where is my order 12345?'];
    const float = await openai.embeddings.create({ model: LOCAL_EMBEDDING_MODEL, input, encoding_format: 'float' });
    assert.equal(float.object, 'list');
    assert.equal(float.model, LOCAL_EMBEDDING_MODEL);
    assert.deepEqual(
      float.data.map((d) => [d.object, d.index]),
      [
        ['embedding', 0],
        ['embedding', 1],
      ],
    );
    assert.ok(float.usage.prompt_tokens > 0);
    assert.equal(float.usage.total_tokens, float.usage.prompt_tokens);

    // Explicit base64: the SDK hands the string back untouched.
    const b64 = await openai.embeddings.create({ model: LOCAL_EMBEDDING_MODEL, input, encoding_format: 'base64' });
    const encoded = b64.data.map((d) => d.embedding as unknown);
    assert.ok(encoded.every((e) => typeof e === 'string'));
    assert.deepEqual(
      encoded.map((e) => decodeBase64(e as string)),
      float.data.map((d) => d.embedding),
    );

    // No encoding_format: the SDK asks for base64 itself and decodes it (the path createOpenAIEmbedder takes).
    const implicit = await openai.embeddings.create({ model: LOCAL_EMBEDDING_MODEL, input });
    assert.deepEqual(
      implicit.data.map((d) => d.embedding),
      float.data.map((d) => d.embedding),
    );
  });

  it('rejects dimensions other than 256 with an OpenAI-shaped 400, not retryable', async () => {
    const wrong = createOpenAIEmbedder({ apiKey: 'offline', baseURL: `${model.url}/openai/v1`, model: 'text-embedding-3-small', dimensions: 512 });
    await assert.rejects(wrong.embed(['hello']), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 400);
      assert.equal(err.retryable, false);
      assert.match(err.message, /dimensions/);
      return true;
    });
    const res = await fetch(`${model.url}/openai/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'hello', dimensions: 1536 }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { type: string; param: string | null; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'dimensions');

    const bad = await fetch(`${model.url}/openai/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'm', input: [] }) });
    assert.equal(bad.status, 400);
  });

  it('maps transport failures and cancellation to ProviderErrors', async () => {
    const closed = await startOfflineModel({ product: productRules,  profiles: { openai: ZERO_LATENCY_PROFILE } });
    const baseURL = `${closed.url}/openai/v1`;
    await closed.close();
    const unreachable = createOpenAIEmbedder({ apiKey: 'offline', baseURL, model: LOCAL_EMBEDDING_MODEL, dimensions: 256 });
    await assert.rejects(unreachable.embed(['hello']), (err: unknown) => err instanceof ProviderError && err.retryable && err.status === null);

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(embedder.embed(['hello'], controller.signal), (err: unknown) => err instanceof ProviderAbortError);
  });

  it('counts embeddings requests, and chat requests by the model they asked for', async () => {
    const before = model.stats();
    await embedder.embed(['one', 'two']);
    await embedder.embed(['three']);
    await fetch(`${model.url}/openai/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'm', input: 'x', dimensions: 3 }) });
    const anthropic = new Anthropic({ apiKey: 'offline', baseURL: `${model.url}/anthropic`, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Hello' }];
    const answer = await openai.chat.completions.create({ model: 'gpt-embeddings-test', messages });
    await openai.chat.completions.create({ model: 'gpt-embeddings-test', messages });
    await anthropic.messages.create({ model: 'claude-embeddings-test', max_tokens: 100, messages });

    const after = model.stats();
    assert.equal((after.requests['embeddings'] ?? 0) - (before.requests['embeddings'] ?? 0), 3);
    assert.equal((after.errors['embeddings:400'] ?? 0) - (before.errors['embeddings:400'] ?? 0), 1);
    assert.equal(after.models['gpt-embeddings-test'], 2);
    assert.equal(after.models['claude-embeddings-test'], 1);
    // Embedding requests are not chat requests, and responses still name the offline model.
    assert.equal(after.models[LOCAL_EMBEDDING_MODEL], undefined);
    assert.equal(answer.model, 'offline-model');
  });
});
