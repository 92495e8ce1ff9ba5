// The OpenAI-compatible Chat Completions: the pure translation (request, chunks, Markdown, errors), then the
// route through the official SDK on an app whose Temporal is a small fake that scripts a turn's events on the
// in-process event bus (the branches a real turn rarely takes: a refusal after text, a failure mid-stream).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { createAdmission } from '../../activities/admission/admission.ts';
import { createMemoryAdmissionStore } from '../../activities/admission/memory-store.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import { createApp, type AppDeps } from '../../api/app.ts';
import { createTenantKeyStore, keyIdOf } from '../../api/auth.ts';
import { createChartUrlSigner } from '../../api/chart-urls.ts';
import {
  completion,
  contentChunk,
  extrasMarkdown,
  finishChunk,
  markdownCell,
  markdownTable,
  openAiErrorOf,
  OpenAiError,
  openAiUsage,
  parseChatRequest,
  roleChunk,
  sessionFor,
  turnErrorOf,
  usageChunk,
} from '../../api/chat-completions-format.ts';
import { ApiError } from '../../api/errors.ts';
import { listen } from '../../api/server.ts';
import { hashApiKey } from '../../infra/api-keys.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { createLogger } from '../../infra/logger.ts';
import { type ChatTurnInput, turnStreamKey, type TurnEvent, type TurnResult, ZERO_USAGE } from '../../workflows/shared/contract.ts';
import { DEFAULT_TENANT_SETTINGS } from '../../workflows/shared/tenant-settings.ts';

/** Expects `fn` to throw an OpenAiError and returns it. */
function refusal(fn: () => unknown): OpenAiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OpenAiError, String(err));
    return err;
  }
  assert.fail('accepted');
}

describe('chat completion requests', () => {
  const user = (content: unknown) => ({ role: 'user', content });

  it('takes the last user message as the turn, whatever came before it', () => {
    const chat = parseChatRequest({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be a pirate.' }, user('first'), { role: 'assistant', content: 'an answer' }, user('the question'), { role: 'assistant', content: 'a prefill' }],
      temperature: 0.2,
      tools: [],
    });
    assert.deepEqual(chat, { model: 'gpt-4o', message: 'the question', messageIndex: 3, stream: false, includeUsage: false });
  });

  it('joins text parts, defaults the model, and reads stream options only when streaming', () => {
    const parts = parseChatRequest({ messages: [user([{ type: 'text', text: 'line one' }, { type: 'text', text: 'line two' }])], stream: true, stream_options: { include_usage: true }, user: 'alice' });
    assert.deepEqual(parts, { model: 'turnflow', message: 'line one\nline two', messageIndex: 0, stream: true, includeUsage: true, user: 'alice' });
    assert.equal(parseChatRequest({ messages: [user('hi')], stream: false, stream_options: { include_usage: true } }).includeUsage, false);
    assert.equal(parseChatRequest({ messages: [user('hi')], stream: null, n: 1 }).stream, false);
  });

  it('refuses with a 400 that names the field', () => {
    const cases: [unknown, string | null, string?][] = [
      [[], null],
      [{ messages: [] }, 'messages'],
      [{ messages: 'hello' }, 'messages'],
      [{ messages: [{ role: 'system', content: 'x' }] }, 'messages', 'missing_user_message'],
      [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [user(42)] }, 'messages[0].content'],
      [{ messages: [user(null)] }, 'messages[0].content'],
      [{ messages: [user('   ')] }, 'messages[0].content'],
      [{ messages: [user('x'.repeat(4001))] }, 'messages[0].content'],
      [{ messages: [user('bell \u0007')] }, 'messages[0].content'],
      [{ messages: [user('ok'), user([{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'http://x' } }])] }, 'messages[1].content[1]'],
      [{ messages: [user('hi')], stream: 'yes' }, 'stream'],
      [{ messages: [user('hi')], model: 7 }, 'model'],
      [{ messages: [user('hi')], user: 'x'.repeat(129) }, 'user'],
      [{ messages: [user('hi')], n: 2 }, 'n'],
      [{ messages: [user('hi')], stream_options: 'usage' }, 'stream_options'],
    ];
    for (const [body, param, code] of cases) {
      const err = refusal(() => parseChatRequest(body));
      assert.equal(err.status, 400, JSON.stringify(body));
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.param, param, JSON.stringify(body));
      if (code) assert.equal(err.code, code);
      assert.ok(err.message.length > 0);
    }
  });

  it('takes the session from the header, else the user field, else the key', () => {
    assert.equal(sessionFor('chat-42', 'alice', 'abc123def456'), 'chat-42');
    assert.equal(sessionFor(undefined, 'alice_1', 'abc123def456'), 'alice_1');
    const hashed = sessionFor(undefined, 'alice@example.com', 'abc123def456');
    assert.match(hashed, /^user-[A-Za-z0-9_-]{22}$/);
    assert.ok(!hashed.includes('alice'), 'an e-mail address is never a session id');
    assert.equal(sessionFor(undefined, 'alice@example.com', 'other'), hashed, 'the same user, the same session');
    assert.equal(sessionFor(undefined, undefined, 'abc123def456'), 'key-abc123def456');
    assert.equal(refusal(() => sessionFor('not a session!', undefined, 'k')).param, 'X-Session-Id');
  });
});

describe('chat completion responses', () => {
  const meta = { id: 'chatcmpl-t1', created: 1_800_000_000, model: 'turnflow' };
  const usage = { inputTokens: 100, outputTokens: 20, cacheReadTokens: 1000, cacheWriteTokens: 50 };

  it('builds the chunks of a stream: role first, content, finish, then usage without choices', () => {
    assert.deepEqual(roleChunk(meta, false), { id: 'chatcmpl-t1', object: 'chat.completion.chunk', created: 1_800_000_000, model: 'turnflow', choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }] });
    assert.deepEqual(contentChunk(meta, 'Hel', false).choices, [{ index: 0, delta: { content: 'Hel' }, logprobs: null, finish_reason: null }]);
    assert.deepEqual(finishChunk(meta, 'stop', false).choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    // With include_usage, every chunk carries `usage: null` (as OpenAI's do) and the last one the figures.
    assert.equal(contentChunk(meta, 'x', true).usage, null);
    assert.ok(!('usage' in contentChunk(meta, 'x', false)));
    assert.deepEqual(usageChunk(meta, usage), {
      id: 'chatcmpl-t1',
      object: 'chat.completion.chunk',
      created: 1_800_000_000,
      model: 'turnflow',
      choices: [],
      usage: { prompt_tokens: 1150, completion_tokens: 20, total_tokens: 1170, prompt_tokens_details: { cached_tokens: 1000 } },
    });
  });

  it('counts cache reads and writes as prompt tokens, as OpenAI does', () => {
    assert.deepEqual(openAiUsage(ZERO_USAGE), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } });
    assert.equal(openAiUsage(usage).prompt_tokens, 1150);
  });

  it('builds a whole completion', () => {
    assert.deepEqual(completion(meta, 'Hello', 'stop', usage), {
      id: 'chatcmpl-t1',
      object: 'chat.completion',
      created: 1_800_000_000,
      model: 'turnflow',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: openAiUsage(usage),
    });
  });
});

describe('data answers in Markdown', () => {
  it('renders the first rows as a table, numbers right-aligned, and says how many more', () => {
    const rows = Array.from({ length: 12 }, (_v, i) => [`2026-${String(i + 1).padStart(2, '0')}`, 1000 + i * 10.5, i % 2 ? null : 'web']);
    const table = markdownTable(['month', 'revenue', 'channel'], rows, 30, 3);
    assert.equal(
      table,
      ['| month | revenue | channel |', '| --- | ---: | --- |', '| 2026-01 | 1000 | web |', '| 2026-02 | 1010.5 |  |', '| 2026-03 | 1021 | web |', '', '_3 of 30 rows shown; 27 more not shown._'].join('\n'),
    );
    assert.equal(markdownTable(['n'], [['1'], ['2']], 2), '| n |\n| ---: |\n| 1 |\n| 2 |', 'all shown: no count line; numeric strings align right');
    assert.equal(markdownTable(['n'], [], 0), '_The query returned no rows._');
    assert.equal(markdownTable([], [], 0), '');
  });

  it('keeps every cell in its cell: pipes escaped, line breaks folded, long text cut', () => {
    assert.equal(markdownCell('a|b'), 'a\\|b');
    assert.equal(markdownCell('line one\n  line two'), 'line one line two');
    assert.equal(markdownCell('back\\slash'), 'back\\\\slash');
    assert.equal(markdownCell(null), '');
    assert.equal(markdownCell({ a: 1 }), '{"a":1}');
    const long = markdownCell('x'.repeat(200));
    assert.equal(long.length, 80);
    assert.ok(long.endsWith('…'));
    const table = markdownTable(['name'], [['Tom | Jerry\nInc']], 1);
    assert.equal(table.split('\n').length, 3, 'one line per row');
  });

  it('puts the table, the chart, the query and the sources after the answer, in that order', () => {
    const md = extrasMarkdown({
      sql: { sql: 'SELECT 1 AS n\n', columns: ['n'], rows: [[1]], rowCount: 1 },
      chartUrl: 'http://api.example/v1/charts/abc.png?exp=1&sig=s',
      sources: [{ slug: 'returns', title: 'Returns | refunds' }],
    });
    assert.equal(md, ['| n |\n| ---: |\n| 1 |', '![chart](http://api.example/v1/charts/abc.png?exp=1&sig=s)', '```sql\nSELECT 1 AS n\n```', 'Sources:\n- Returns \\| refunds'].join('\n\n'));
    assert.equal(extrasMarkdown({}), '');
  });
});

describe('errors in OpenAI’s shape', () => {
  it('translates the API’s errors, keeping statuses and Retry-After', () => {
    const cases: [ApiError, number, string, string | null, Record<string, string>][] = [
      [new ApiError(401, 'unauthorized', 'Unknown or revoked API key', undefined, { 'WWW-Authenticate': 'Bearer realm="turns"' }), 401, 'invalid_request_error', 'invalid_api_key', { 'WWW-Authenticate': 'Bearer realm="turns"' }],
      [new ApiError(429, 'rate_limited', 'over', {}, { 'Retry-After': '30' }), 429, 'requests', 'rate_limit_exceeded', { 'Retry-After': '30' }],
      [new ApiError(429, 'budget_exhausted', 'spent', {}, { 'Retry-After': '3600' }), 429, 'insufficient_quota', 'insufficient_quota', { 'Retry-After': '3600' }],
      [new ApiError(503, 'overloaded', 'full', {}, { 'Retry-After': '1' }), 503, 'server_error', 'overloaded', { 'Retry-After': '1' }],
      [new ApiError(503, 'dependency_unavailable', 'down', undefined, { 'Retry-After': '2' }), 503, 'server_error', 'service_unavailable', { 'Retry-After': '2' }],
      [new ApiError(409, 'idempotency_key_reused', 'reused'), 409, 'invalid_request_error', 'idempotency_key_reused', { 'x-should-retry': 'false' }],
      [new ApiError(413, 'payload_too_large', 'big'), 413, 'invalid_request_error', 'payload_too_large', {}],
      [new ApiError(403, 'admin_key_not_allowed', 'admin'), 403, 'invalid_request_error', 'admin_key_not_allowed', {}],
      [new ApiError(500, 'internal', 'Internal error'), 500, 'server_error', 'internal_error', {}],
    ];
    for (const [apiErr, status, type, code, headers] of cases) {
      const e = openAiErrorOf(apiErr);
      assert.deepEqual([e.status, e.type, e.code, e.headers], [status, type, code, headers], apiErr.code);
      assert.deepEqual(e.body(), { error: { message: apiErr.message, type, param: null, code } });
    }
    assert.equal(openAiErrorOf(new ApiError(400, 'invalid_idempotency_key', 'bad')).param, 'Idempotency-Key');
  });

  it('makes a refused message a 400 content_policy_violation naming it, not retried', () => {
    const e = turnErrorOf({ code: 'content_policy', message: 'I can’t help with that.' }, 3);
    assert.deepEqual([e.status, e.code, e.param, e.headers['x-should-retry']], [400, 'content_policy_violation', 'messages[3].content', 'false']);
    assert.deepEqual([turnErrorOf({ code: 'turn_failed', message: 'x' }, 0).status, turnErrorOf({ code: 'turn_failed', message: 'x' }, 0).type], [500, 'server_error']);
  });
});

// --- The route, through the SDK, on scripted turns ------------------------------------------------------

const KEY = 'unit-shop-key';
const ADMIN_KEY = 'unit-admin-key';
const keyRows = new Map([[hashApiKey(KEY), { tenant_id: 'shop', dev: false, admin: false }], [hashApiKey(ADMIN_KEY), { tenant_id: null, dev: false, admin: true }]]);
// The app store: keys, and a tenant whose settings are the defaults (every other query finds nothing).
const db = {
  query: async <R,>(sql: string, params?: unknown[]) => {
    const found = (rows: unknown[]) => ({ rows: rows as R[], rowCount: rows.length });
    if (sql.includes('FROM api_keys')) return found(keyRows.has(String(params?.[0])) ? [keyRows.get(String(params?.[0]))] : []);
    if (sql.includes('FROM tenants')) return found([{ settings: {}, cache_generation: 0 }]);
    return found([]);
  },
} satisfies Queryable;

const usage = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };
const result = (answer: string, extra: Partial<TurnResult> = {}) => ({ answer, usage, guardrail: undefined, ...extra }) as Partial<TurnResult> as TurnResult;
const token = (text: string, at: number): TurnEvent => ({ type: 'token', data: { text, at, attempt: 1 } });

/** What a scripted turn writes on its stream, by its message. */
const SCRIPTS: Record<string, TurnEvent[]> = {
  'chart our revenue': [
    { type: 'step', data: { name: 'runSqlAgent', status: 'completed', ms: 3 } },
    { type: 'sql', data: { sql: 'SELECT month, revenue FROM x', columns: ['month', 'revenue'], rows: [['2026-01', 10], ['2026-02', 20]], rowCount: 2 } },
    token('Revenue ', 0),
    token('Revenue ', 0),
    token('rose.', 8),
    { type: 'chart', data: { id: 'c0ffee', svgUrl: '/v1/charts/c0ffee.svg', pngUrl: '/v1/charts/c0ffee.png', spec: {} } },
    { type: 'done', data: result('Revenue rose.', { chart: { id: 'c0ffee', svgUrl: '/v1/charts/c0ffee.svg', pngUrl: '/v1/charts/c0ffee.png' } }) },
  ],
  'refused late': [token('Sure, ', 0), token('here', 6), { type: 'error', data: { code: 'content_policy', message: 'I can’t help with that.' } }],
  'failed early': [{ type: 'error', data: { code: 'turn_failed', message: 'The turn ended without an answer (terminated)' } }],
  'failed late': [token('Half an ', 0), { type: 'error', data: { code: 'turn_failed', message: 'The turn ended without an answer (terminated)' } }],
  'canned': [{ type: 'done', data: result('Sorry, I can’t answer right now.') }],
  'redacted': [token('Call 555 0100', 0), { type: 'done', data: result('Call [phone]', { guardrail: { blocked: true, reasons: ['pii'], redactions: 1 } }) }],
};

describe('POST /v1/chat/completions through the SDK, on scripted turns', () => {
  const events = createMemoryTurnEventBus(60);
  const store = createMemoryAdmissionStore();
  const admission = createAdmission({ store, maxInFlight: 100 });
  let started = 0;
  // Temporal narrowed to what the route calls: a start writes the turn's script on its stream.
  const workflow = {
    async start(_type: string, o: { workflowId: string; args: [ChatTurnInput] }) {
      started++;
      const script = SCRIPTS[o.args[0].message];
      assert.ok(script, `no script for ${o.args[0].message}`);
      setTimeout(async () => {
        for (const e of script) {
          if (e.type === 'done' || e.type === 'error') await events.publishTerminal(turnStreamKey(o.workflowId), e);
          else await events.publish(turnStreamKey(o.workflowId), e);
        }
      }, 5);
      return {};
    },
    getHandle: () => ({ describe: async () => ({ status: { name: 'RUNNING' } }) }),
  };
  const temporal = {
    workflow: workflow as unknown as AppDeps['temporal']['workflow'],
    connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
  } satisfies AppDeps['temporal'];
  const chartUrls = createChartUrlSigner({ secret: 'unit-test-chart-url-secret-0123456789', ttlSeconds: 3600 });
  let api: Awaited<ReturnType<typeof listen>>;
  let base: string;
  let client: OpenAI;
  before(async () => {
    api = await listen(createApp({ temporal, events, appDb: db, kv: createMemoryKvCache(), keys: createTenantKeyStore(db, { production: true }), chartUrls, log: createLogger('silent'), admission }), 0, '127.0.0.1');
    base = `http://127.0.0.1:${api.port}`;
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  after(async () => {
    await api.close();
    await events.close();
  });

  function ask(content: string, stream: true): Promise<AsyncIterable<ChatCompletionChunk>>;
  function ask(content: string, stream: false): Promise<OpenAI.ChatCompletion>;
  function ask(content: string, stream: boolean): Promise<unknown>;
  function ask(content: string, stream: boolean): Promise<unknown> {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content }];
    return stream ? client.chat.completions.create({ model: 'turnflow', messages, stream: true, stream_options: { include_usage: true } }) : client.chat.completions.create({ model: 'turnflow', messages });
  }
  async function drain(stream: AsyncIterable<ChatCompletionChunk>) {
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join('') };
  }
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('answered'),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.APIError, String(e));
        return e;
      },
    );

  it('streams a data answer: each token once, then the table, the signed chart link and the query, then the finish and usage', async () => {
    const { chunks, text } = await drain(await ask('chart our revenue', true));
    const pngUrl = new URL(chartUrls.links('shop', 'c0ffee').pngUrl, base).toString().replace(/exp=\d+&sig=[^&]+/, '');
    const link = /!\[chart\]\(([^)]+)\)/.exec(text)?.[1] ?? '';
    assert.equal(link.replace(/exp=\d+&sig=[^&]+/, ''), pngUrl, 'absolute, on the host the client called');
    assert.equal(chartUrls.verify('shop', 'c0ffee', new URL(link).searchParams.get('exp') ?? undefined, new URL(link).searchParams.get('sig') ?? undefined), 'ok', 'signed for the tenant');
    assert.equal(text, `Revenue rose.\n\n| month | revenue |\n| --- | ---: |\n| 2026-01 | 10 |\n| 2026-02 | 20 |\n\n![chart](${link})\n\n\`\`\`sql\nSELECT month, revenue FROM x\n\`\`\``);
    assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason ?? (c.choices.length ? '-' : 'usage')).slice(-2), ['stop', 'usage']);
    assert.equal(chunks.at(-1)!.usage?.total_tokens, 15);
  });

  it('answers a data answer whole without streaming', async () => {
    const c = await ask('chart our revenue', false);
    assert.match(c.choices[0]!.message.content!, /^Revenue rose\.\n\n\| month \| revenue \|[\s\S]+!\[chart\]\(http:\/\/127\.0\.0\.1:\d+\/v1\/charts\/c0ffee\.png\?exp=\d+&sig=/);
    assert.equal(c.usage?.total_tokens, 15);
  });

  it('starts chart links with PUBLIC_URL when it is set (a TLS proxy in front)', async () => {
    const proxied = await listen(createApp({ temporal, events, appDb: db, kv: createMemoryKvCache(), keys: createTenantKeyStore(db, { production: true }), chartUrls, log: createLogger('silent'), publicUrl: 'https://chat.example.com/api/' }), 0, '127.0.0.1');
    try {
      const sdk = new OpenAI({ baseURL: `http://127.0.0.1:${proxied.port}/v1`, apiKey: KEY, maxRetries: 0 });
      const c = await sdk.chat.completions.create({ model: 'turnflow', messages: [{ role: 'user', content: 'chart our revenue' }] });
      assert.match(c.choices[0]!.message.content!, /!\[chart\]\(https:\/\/chat\.example\.com\/api\/v1\/charts\/c0ffee\.png\?exp=\d+&sig=/);
    } finally {
      await proxied.close();
    }
  });

  it('lets the scripts of CHAT_CORS_ORIGINS call it from a browser, and no other origin', async () => {
    const front = 'https://chat.example.org';
    const cors = await listen(createApp({ temporal, events, appDb: db, kv: createMemoryKvCache(), keys: createTenantKeyStore(db, { production: true }), chartUrls, log: createLogger('silent'), chatCorsOrigins: [front] }), 0, '127.0.0.1');
    const url = `http://127.0.0.1:${cors.port}/v1/chat/completions`;
    try {
      const preflight = (origin: string) =>
        fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-stainless-os' } });
      const ok = await preflight(front);
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get('access-control-allow-origin'), front);
      assert.equal(ok.headers.get('access-control-allow-headers'), 'authorization,content-type,x-stainless-os');
      assert.match(ok.headers.get('access-control-allow-methods')!, /POST/);
      const other = await preflight('https://evil.example.net');
      assert.equal(other.status, 204);
      assert.equal(other.headers.get('access-control-allow-origin'), null, 'another origin is not allowed');

      const post = (origin: string, key = KEY) =>
        fetch(url, { method: 'POST', headers: { origin, authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'turnflow', messages: [{ role: 'user', content: 'chart our revenue' }] }) });
      const answered = await post(front);
      assert.equal(answered.status, 200);
      assert.equal(answered.headers.get('access-control-allow-origin'), front);
      assert.match(answered.headers.get('access-control-expose-headers')!, /X-Turn-Id/);
      assert.ok(answered.headers.get('x-turn-id'));
      assert.equal((await post('https://evil.example.net')).headers.get('access-control-allow-origin'), null);
      const refused = await post(front, 'tf_wrong');
      assert.equal(refused.status, 401, 'the key still decides');
      assert.equal(refused.headers.get('access-control-allow-origin'), front, 'and the front end can read why');
      assert.equal((await fetch(url.replace('chat/completions', 'turns'), { method: 'OPTIONS', headers: { origin: front } })).headers.get('access-control-allow-origin'), null, 'only the OpenAI-compatible paths');
    } finally {
      await cors.close();
    }
  });

  it('ends a stream refused after its first text with finish_reason content_filter', async () => {
    const { chunks, text } = await drain(await ask('refused late', true));
    assert.equal(text, 'Sure, here');
    assert.equal(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'content_filter');
    assert.deepEqual(chunks.at(-1)!.choices, [], 'usage still comes');
  });

  it('refuses the same turn with a 400 when nothing had been sent', async () => {
    const err = await failure(ask('refused late', false));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'content_policy_violation');
  });

  it('answers a turn that failed before any text with a 500 in OpenAI’s shape, and one that failed mid-stream with an error the SDK throws', async () => {
    for (const stream of [false, true]) {
      const err = await failure(ask('failed early', stream));
      assert.ok(err instanceof OpenAI.InternalServerError);
      assert.equal(err.code, 'turn_failed');
      assert.equal(err.type, 'server_error');
    }
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const c of await ask('failed late', true)) seen.push(c.choices[0]?.delta.content ?? '');
      })(),
    );
    assert.equal(seen.join(''), 'Half an ');
    assert.equal(err.code, 'turn_failed');
  });

  it('sends a turn that streamed no token (a canned answer) whole, and never takes streamed text back', async () => {
    assert.equal((await drain(await ask('canned', true))).text, 'Sorry, I can’t answer right now.');
    const streamed = await drain(await ask('redacted', true));
    assert.equal(streamed.text, 'Call 555 0100', 'what was streamed stays');
    assert.equal(streamed.chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason, 'content_filter', 'the output check replaced the answer');
    const whole = await ask('redacted', false);
    assert.equal(whole.choices[0]!.message.content, 'Call [phone]', 'not streamed: the checked answer');
    assert.equal(whole.choices[0]!.finish_reason, 'content_filter');
  });

  it('answers errors in OpenAI’s shape on its paths only, before any turn starts', async () => {
    const before = started;
    const bad = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'nope', maxRetries: 0 });
    const unauthorized = await failure(bad.chat.completions.create({ model: 'turnflow', messages: [{ role: 'user', content: 'hi' }] }));
    assert.ok(unauthorized instanceof OpenAI.AuthenticationError);
    assert.deepEqual(unauthorized.error, { message: 'Unknown or revoked API key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
    assert.ok(await failure(bad.models.list()) instanceof OpenAI.AuthenticationError);
    const admin = new OpenAI({ baseURL: `${base}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    assert.ok(await failure(admin.chat.completions.create({ model: 'turnflow', messages: [{ role: 'user', content: 'hi' }] })) instanceof OpenAI.PermissionDeniedError);

    const raw = (init: RequestInit & { path?: string }) => fetch(`${base}${init.path ?? '/v1/chat/completions'}`, { method: 'POST', ...init, headers: { authorization: `Bearer ${KEY}`, ...(init.headers as Record<string, string>) } });
    const shape = async (res: Response, status: number, code: string | null) => {
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(body.error.code, code);
    };
    await shape(await raw({ body: '{"messages": [', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    await shape(await raw({ body: 'hi', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    await shape(await raw({ body: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] }), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    await shape(await raw({ method: 'GET' }), 404, 'unknown_url');
    await shape(await raw({ method: 'GET', path: '/v1/models/gpt-4o' }), 404, 'model_not_found');
    await shape(await raw({ body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }), headers: { 'content-type': 'application/json', 'idempotency-key': 'bad key' } }), 400, 'invalid_idempotency_key');
    // A long conversation is fine: only its last user message is read (the product's own route keeps 32 kB).
    const history = Array.from({ length: 40 }, (_v, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x'.repeat(2000) }));
    const long = await client.chat.completions.create({ model: 'turnflow', messages: [...(history as OpenAI.ChatCompletionMessageParam[]), { role: 'user', content: 'canned' }] });
    assert.equal(long.choices[0]!.message.content, 'Sorry, I can’t answer right now.');
    assert.equal(started, before + 1, 'no refused request started a turn');
    // The product's own routes keep theirs.
    const turns = await fetch(`${base}/v1/turns`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' });
    assert.deepEqual(await turns.json(), { error: { code: 'unauthorized', message: 'Unknown or revoked API key' } });
  });

  it('passes admission’s 429 on with Retry-After', async () => {
    const limits = { ...DEFAULT_TENANT_SETTINGS.limits, perKey: { turnsPerMinute: 1, concurrentTurns: null } };
    const db429 = {
      query: async <R,>(sql: string, params?: unknown[]) => (sql.includes('FROM tenants') ? { rows: [{ settings: { limits }, cache_generation: 0 }] as R[], rowCount: 1 } : db.query<R>(sql, params)),
    } satisfies Queryable;
    // Admission of its own: the turns above counted against the default limits.
    const admission = createAdmission({ store: createMemoryAdmissionStore(), maxInFlight: 100 });
    const limited = await listen(createApp({ temporal, events, appDb: db429, kv: createMemoryKvCache(), keys: createTenantKeyStore(db429, { production: true }), chartUrls, log: createLogger('silent'), admission }), 0, '127.0.0.1');
    try {
      // The key's one turn of the minute is taken.
      assert.ok((await admission.admit({ workflowId: 'turn-shop-taken', tenantId: 'shop', keyId: keyIdOf(hashApiKey(KEY)), limits, turnMs: 25_000 })).ok);
      const sdk = new OpenAI({ baseURL: `http://127.0.0.1:${limited.port}/v1`, apiKey: KEY, maxRetries: 0 });
      const err = await failure(sdk.chat.completions.create({ model: 'turnflow', messages: [{ role: 'user', content: 'canned' }] }));
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.code, 'rate_limit_exceeded');
      assert.equal(err.headers?.get('retry-after'), '60');
      assert.match(err.message, /over its limit of 1 turns per minute/);
    } finally {
      await limited.close();
    }
  });
});
