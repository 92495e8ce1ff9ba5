// The chat page without a browser: how the API serves it (no key, a strict CSP, its config), and the page's
// turn stream client (api/chat-page/turn-stream.js, a plain browser module that runs in Node too): SSE parsed
// in any chunking, tokens joined once, a dropped connection resumed with Last-Event-ID.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp, type AppDeps } from '../../api/app.ts';
import { createTenantKeyStore } from '../../api/auth.ts';
import { CHAT_PAGE_CSP } from '../../api/chat-page.ts';
import { createChartUrlSigner } from '../../api/chart-urls.ts';
import { listen } from '../../api/server.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';
import { createLogger } from '../../infra/logger.ts';

type SseItem = { id?: string; event: string; data: string } | { retry: number };
interface TurnStreamModule {
  createSseParser(): { push(text: string): SseItem[] };
  streamTurn(opts: {
    apiKey: string;
    sessionId: string;
    message: string;
    onEvent: (type: string, data: any, id?: string) => void;
    onStatus?: (status: string) => void;
    fetch?: (url: string, init?: RequestInit) => Promise<Response>;
    reconnect?: { firstDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  }): Promise<{ type: string; data: any }>;
  ApiRequestError: new (...args: never[]) => Error & { status: number; code: string };
}
// A browser module without type declarations: loaded by URL, typed here by what the tests use.
const stream = (await import(new URL('../../api/chat-page/turn-stream.js', import.meta.url).href)) as TurnStreamModule;

const noDb = { query: async <R,>() => ({ rows: [] as R[], rowCount: 0 }) } satisfies Queryable;
const temporal = {
  workflow: {} as AppDeps['temporal']['workflow'],
  connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
} satisfies AppDeps['temporal'];

async function serve(temporalUi?: AppDeps['temporalUi']) {
  const app = createApp({
    temporal,
    events: createMemoryTurnEventBus(60),
    appDb: noDb,
    kv: createMemoryKvCache(),
    keys: createTenantKeyStore(noDb, { production: false }),
    chartUrls: createChartUrlSigner({ secret: 'unit-test-chart-url-secret-0123456789', ttlSeconds: 3600 }),
    log: createLogger('silent'),
    ...(temporalUi ? { temporalUi } : {}),
  });
  const api = await listen(app, 0, '127.0.0.1');
  return { ...api, base: `http://127.0.0.1:${api.port}` };
}

describe('the chat page, as the API serves it', () => {
  let api: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    api = await serve({ url: 'https://temporal.example.com/', namespace: 'shop' });
  });
  after(() => api.close());

  it('serves the page at / without a key, under a CSP that allows only its own scripts, styles, images and API', async () => {
    const res = await fetch(`${api.base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const csp = res.headers.get('content-security-policy')!;
    assert.equal(csp, CHAT_PAGE_CSP);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"]) {
      assert.ok(csp.split('; ').includes(directive), directive);
    }
    assert.doesNotMatch(csp, /unsafe|\*|data:|https?:/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    assert.match(html, /<script type="module" src="\/chat\/app\.js"><\/script>/);
    // No inline script or style anywhere: the CSP would block them.
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i);
  });

  it('serves its scripts, styles and icon from /chat/, with the same headers; nothing else', async () => {
    for (const [file, type] of [['app.js', /javascript/], ['turn-stream.js', /javascript/], ['style.css', /text\/css/], ['icon.svg', /image\/svg\+xml/]] as const) {
      const res = await fetch(`${api.base}/chat/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type')!, type, file);
      assert.equal(res.headers.get('content-security-policy'), CHAT_PAGE_CSP, file);
    }
    for (const path of ['/chat/nope.js', '/chat/%2e%2e/chat-page.ts', '/chat/..%2fapp.ts']) {
      const res = await fetch(`${api.base}${path}`);
      assert.ok(res.status === 404 || res.status === 403, `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /import /, path);
    }
    const redirect = await fetch(`${api.base}/chat`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/');
  });

  it('tells the page where the Temporal Web UI is; the API itself still needs a key', async () => {
    const res = await fetch(`${api.base}/chat/config.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { temporalUi: { url: 'https://temporal.example.com', namespace: 'shop' } });
    assert.equal((await fetch(`${api.base}/v1/settings`)).status, 401);

    const bare = await serve();
    try {
      assert.deepEqual(await (await fetch(`${bare.base}/chat/config.json`)).json(), { temporalUi: null });
    } finally {
      await bare.close();
    }
  });
});

/** An SSE response whose body sends `frames`, then ends, or fails like a dropped connection (`drop`). */
function sseResponse(frames: string[], opts: { drop?: boolean } = {}): Response {
  const encoder = new TextEncoder();
  const queue = [...frames];
  // One frame per read, then the end; a drop errors only once every frame was read (an error discards the queue).
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next !== undefined) controller.enqueue(encoder.encode(next));
      else if (opts.drop) controller.error(new TypeError('network error'));
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
}

const frame = (id: string | undefined, event: string, data: unknown) => `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const TURN = { turnId: 't-1', workflowId: 'turn-acme-t-1' };
const FAST = { firstDelayMs: 1, maxDelayMs: 1, maxAttempts: 5 };

describe('the page’s turn stream client', () => {
  it('parses SSE split anywhere: LF, CRLF and CR line ends, comments, multi-line data, retry', () => {
    const text = 'retry: 2000\r\n\r\n: keep-alive\n\nid: 1-0\nevent: turn\ndata: {"turnId":"t"}\n\nid: 1-1\r\nevent: token\r\ndata: {"text":"a\r\ndata: b"}\r\n\r\nevent: step\rdata: {"name":"x"}\r\r\n';
    const expected: SseItem[] = [
      { retry: 2000 },
      { id: '1-0', event: 'turn', data: '{"turnId":"t"}' },
      { id: '1-1', event: 'token', data: '{"text":"a\nb"}' },
      // No id line: it keeps the last one seen, as EventSource does.
      { id: '1-1', event: 'step', data: '{"name":"x"}' },
    ];
    for (let size = 1; size <= text.length; size++) {
      const parser = stream.createSseParser();
      const got: SseItem[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...parser.push(text.slice(i, i + size)));
      assert.deepEqual(got, expected, `chunks of ${size}`);
    }
  });

  it('resumes a dropped stream from Last-Event-ID and shows every token once, even one sent again', async () => {
    const requests: { url: string; headers: Record<string, string> }[] = [];
    const responses = [
      sseResponse(['retry: 2000\n\n', frame('5-0', 'turn', TURN), frame('5-1', 'step', { name: 'generateAnswer', status: 'started' }), frame('5-2', 'token', { text: 'Hello ', attempt: 1, at: 0 }), frame('5-3', 'token', { text: 'there, ', attempt: 1, at: 6 })], { drop: true }),
      // The first reconnect cannot reach the API at all.
      'offline' as const,
      sseResponse([
        // A token the bus wrote twice (its reply lost with the connection): same attempt and place, another id.
        frame('5-4', 'token', { text: 'there, ', attempt: 1, at: 6 }),
        frame('5-5', 'token', { text: 'friend.', attempt: 1, at: 13 }),
        frame('5-6', 'done', { ...TURN, answer: 'Hello there, friend.', cache: 'none' }),
      ]),
    ];
    const fakeFetch = async (url: string, init?: RequestInit) => {
      requests.push({ url, headers: Object.fromEntries(new Headers(init?.headers).entries()) });
      const next = responses.shift();
      if (next === 'offline' || !next) throw new TypeError('Failed to fetch');
      return next;
    };
    let text = '';
    const statuses: string[] = [];
    const types: string[] = [];
    const terminal = await stream.streamTurn({
      apiKey: 'dev-acme-key',
      sessionId: 's',
      message: 'hi',
      fetch: fakeFetch,
      reconnect: FAST,
      onStatus: (s) => statuses.push(s),
      onEvent: (type, data) => {
        types.push(type);
        if (type === 'token') text += data.text;
      },
    });
    assert.equal(terminal.type, 'done');
    assert.equal(text, 'Hello there, friend.');
    assert.equal(text, terminal.data.answer);
    assert.deepEqual(types, ['turn', 'step', 'token', 'token', 'token', 'done']);
    assert.ok(statuses.includes('reconnecting'), statuses.join());
    assert.equal(statuses.at(-1), 'streaming');
    assert.equal(requests.length, 3);
    assert.equal(requests[0]!.url, '/v1/turns');
    assert.equal(requests[0]!.headers.authorization, 'Bearer dev-acme-key');
    for (const r of requests.slice(1)) {
      assert.equal(r.url, '/v1/turns/t-1/events');
      assert.equal(r.headers['last-event-id'], '5-3');
      assert.equal(r.headers.authorization, 'Bearer dev-acme-key');
    }
  });

  it('reads on after the relay reports its event bus lost (stream_unavailable is not the turn’s end)', async () => {
    const responses = [
      sseResponse([frame('1-0', 'turn', TURN), frame('1-1', 'token', { text: 'Part one. ', attempt: 1, at: 0 }), frame(undefined, 'error', { code: 'stream_unavailable', message: 'The event stream was interrupted' })]),
      sseResponse([frame('1-2', 'token', { text: 'Part two.', attempt: 1, at: 10 }), frame('1-3', 'done', { ...TURN, answer: 'Part one. Part two.' })]),
    ];
    let text = '';
    const terminal = await stream.streamTurn({
      apiKey: 'k',
      sessionId: 's',
      message: 'm',
      reconnect: FAST,
      fetch: async () => responses.shift()!,
      onEvent: (type, data) => type === 'token' && (text += data.text),
    });
    assert.equal(terminal.type, 'done');
    assert.equal(text, 'Part one. Part two.');
  });

  it('ends with the turn’s own error event, and rejects with the API’s message when it refuses the question', async () => {
    const denied = await stream.streamTurn({
      apiKey: 'k',
      sessionId: 's',
      message: 'm',
      fetch: async () => sseResponse([frame('1-0', 'turn', TURN), frame('1-1', 'error', { code: 'content_policy', message: 'Blocked' })]),
      onEvent: () => {},
    });
    assert.deepEqual(denied, { type: 'error', data: { code: 'content_policy', message: 'Blocked' } });

    const refused = stream.streamTurn({
      apiKey: 'bad',
      sessionId: 's',
      message: 'm',
      fetch: async () => new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'Unknown or revoked API key' } }), { status: 401, headers: { 'content-type': 'application/json' } }),
      onEvent: () => {},
    });
    await assert.rejects(refused, (err: Error & { status?: number; code?: string }) => {
      assert.ok(err instanceof stream.ApiRequestError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 'unauthorized');
      assert.equal(err.message, 'Unknown or revoked API key');
      return true;
    });
  });

  it('does not guess at a turn it never heard of: a drop before the turn event is an error, with no reconnect', async () => {
    let calls = 0;
    await assert.rejects(
      stream.streamTurn({
        apiKey: 'k',
        sessionId: 's',
        message: 'm',
        reconnect: FAST,
        fetch: async () => (calls++, sseResponse(['retry: 2000\n\n'], { drop: true })),
        onEvent: () => {},
      }),
      /before the turn started/,
    );
    assert.equal(calls, 1);
  });

  it('gives up after its reconnect attempts, saying so', async () => {
    let calls = 0;
    await assert.rejects(
      stream.streamTurn({
        apiKey: 'k',
        sessionId: 's',
        message: 'm',
        reconnect: { firstDelayMs: 1, maxDelayMs: 1, maxAttempts: 3 },
        fetch: async () => {
          calls++;
          if (calls === 1) return sseResponse([frame('1-0', 'turn', TURN)], { drop: true });
          return new Response('{"error":{"code":"dependency_unavailable","message":"down"}}', { status: 503 });
        },
        onEvent: () => {},
      }),
      /after 3 tries/,
    );
    assert.equal(calls, 4);
  });
});
