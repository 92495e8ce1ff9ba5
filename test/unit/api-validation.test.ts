// The API's input validation: every bad request is answered before Temporal is touched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../api/app.ts';
import { createTenantKeyStore } from '../../api/auth.ts';
import { createChartUrlSigner } from '../../api/chart-urls.ts';
import { listen } from '../../api/server.ts';
import { hashApiKey } from '../../infra/api-keys.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMemoryTurnEventBus } from '../../activities/turn-events/bus.ts';
import type { AppDeps } from '../../api/app.ts';
import type { Queryable } from '../../infra/db.ts';
import { createMemoryKvCache } from '../../infra/kv-cache.ts';

// Small fakes of narrowed interfaces: a key table and a Temporal client that must never be reached.
const keyRows = new Map([
  [hashApiKey('dev-acme-key'), { tenant_id: 'acme', dev: true }],
  [hashApiKey('prod-globex-key'), { tenant_id: 'globex', dev: false }],
]);
const db = {
  query: async <R,>(_sql: string, params?: unknown[]) => {
    const row = keyRows.get(String(params?.[0]));
    return { rows: (row ? [row] : []) as R[], rowCount: row ? 1 : 0 };
  },
} satisfies Queryable;
let temporalCalls = 0;
// Every workflow method rejects (and counts): validation must answer before Temporal is touched.
const workflowClient = new Proxy({} as AppDeps['temporal']['workflow'], {
  get: () => () => (temporalCalls++, Promise.reject(new Error('Temporal must not be called'))),
});
const temporal = {
  workflow: workflowClient,
  connection: { workflowService: { getSystemInfo: async () => ({}) } as unknown as AppDeps['temporal']['connection']['workflowService'] },
} satisfies AppDeps['temporal'];

async function serve(production: boolean) {
  const app = createApp({
    temporal,
    events: createMemoryTurnEventBus(60),
    appDb: db,
    kv: createMemoryKvCache(),
    keys: createTenantKeyStore(db, { production }),
    chartUrls: createChartUrlSigner({ secret: 'unit-test-chart-url-secret-0123456789', ttlSeconds: 3600 }),
    log: createLogger('silent'),
  });
  return listen(app, 0, '127.0.0.1');
}

describe('POST /v1/turns validation', () => {
  let api: Awaited<ReturnType<typeof serve>>;
  let base: string;
  before(async () => {
    api = await serve(false);
    base = `http://127.0.0.1:${api.port}`;
  });
  after(async () => {
    await api.close();
    assert.equal(temporalCalls, 0, 'no invalid request may reach Temporal');
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/turns`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', ...headers },
      body,
    });

  async function expectError(res: Response, status: number, code: string) {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } };
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 0);
    return body;
  }

  it('401 without a key, with a malformed header, or with an unknown key', async () => {
    await expectError(await post('{}', { authorization: '' }), 401, 'unauthorized');
    await expectError(await post('{}', { authorization: 'Basic abc' }), 401, 'unauthorized');
    const res = await post('{}', { authorization: 'Bearer nope' });
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="turns"');
    await expectError(res, 401, 'unauthorized');
  });

  it('415 for a body that is not JSON', async () => {
    await expectError(await post('sessionId=a&message=b', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    await expectError(await post('hello', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });

  it('400 for malformed JSON', async () => {
    await expectError(await post('{"sessionId": "a",'), 400, 'invalid_json');
  });

  it('400 with details for fields outside the contract', async () => {
    const cases = [
      {},
      { sessionId: 'ok', message: '' },
      { sessionId: 'ok', message: '   ' },
      { sessionId: 'has space', message: 'hi' },
      { sessionId: 'x'.repeat(129), message: 'hi' },
      { sessionId: 'ok', message: 'x'.repeat(4001) },
      { sessionId: 'ok', message: 'hi', extra: true },
      { sessionId: 'ok', message: 42 },
      // Text Postgres could not store, or that no person types: refused up front, never a lost turn.
      { sessionId: 'ok', message: 'null byte \u0000 here' },
      { sessionId: 'ok', message: 'bell \u0007 and escape \u001b[31m' },
      { sessionId: 'ok', message: 'C1 control \u0085' },
      { sessionId: 'ok', message: 'hi', userId: 'bad\u0000user' },
    ];
    for (const body of cases) {
      const err = await expectError(await post(JSON.stringify(body)), 400, 'invalid_request');
      assert.ok(Array.isArray((err.error as { details?: unknown[] }).details), JSON.stringify(body));
    }
  });

  it('400 for a message that is not valid Unicode (an unpaired surrogate)', async () => {
    for (const raw of ['{"sessionId":"ok","message":"broken \\ud800 text"}', '{"sessionId":"ok","message":"\\udc00 trailing"}']) {
      const err = await expectError(await post(raw), 400, 'invalid_request');
      assert.match(JSON.stringify(err), /Unicode/);
    }
  });

  it('413 for a body over the size limit', async () => {
    await expectError(await post(JSON.stringify({ sessionId: 'ok', message: 'x'.repeat(40_000) })), 413, 'payload_too_large');
  });

  it('400 for an invalid Idempotency-Key', async () => {
    await expectError(await post(JSON.stringify({ sessionId: 'ok', message: 'hi' }), { 'idempotency-key': 'x'.repeat(300) }), 400, 'invalid_idempotency_key');
  });

  it('404 in the JSON shape for unknown routes and malformed turn ids', async () => {
    await expectError(await fetch(`${base}/v1/nope`, { headers: { authorization: 'Bearer dev-acme-key' } }), 404, 'not_found');
    await expectError(await fetch(`${base}/v1/turns/bad%20id`, { headers: { authorization: 'Bearer dev-acme-key' } }), 404, 'turn_not_found');
  });

  it('400 for a Last-Event-ID the stream never sent', async () => {
    const res = await fetch(`${base}/v1/turns/abc/events`, { headers: { authorization: 'Bearer dev-acme-key', 'last-event-id': 'zzz' } });
    await expectError(res, 400, 'invalid_last_event_id');
  });

  it('feedback: 400 naming the field for a bad body, 404 for a malformed turn id, 415 for a body that is not JSON', async () => {
    const feedback = (body: string, turnId = 'abc', headers: Record<string, string> = {}) =>
      fetch(`${base}/v1/turns/${turnId}/feedback`, { method: 'POST', headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', ...headers }, body });
    const cases: [unknown, string, RegExp][] = [
      [{}, 'rating', /"up" or "down"/],
      [{ rating: 'UP' }, 'rating', /"up" or "down"/],
      [{ rating: 'up', comment: 'x'.repeat(2001) }, 'comment', /at most 2000/],
      [{ rating: 'up', comment: 'a\u0000b' }, 'comment', /control characters/],
      [{ rating: 'down', correctedSql: ' \n ' }, 'correctedSql', /blank/],
      [{ rating: 'down', correctedSql: 'SELECT 1', sql: 'SELECT 2' }, 'sql', /not both/],
    ];
    for (const [body, path, message] of cases) {
      const { error } = await expectError(await feedback(JSON.stringify(body)), 400, 'invalid_request');
      const details = error.details as { path: string; message: string }[];
      assert.ok(details.some((d) => d.path === path && message.test(d.message)), `${JSON.stringify(body)}: ${JSON.stringify(details)}`);
    }
    await expectError(await feedback(JSON.stringify({ rating: 'up', stars: 5 })), 400, 'invalid_request');
    await expectError(await feedback(JSON.stringify({ rating: 'up' }), 'bad%20id'), 404, 'turn_not_found');
    await expectError(await feedback('rating=up', 'abc', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
  });
});

describe('production keys', () => {
  it('refuses dev keys and accepts real ones', async () => {
    const api = await serve(true);
    try {
      const base = `http://127.0.0.1:${api.port}`;
      const dev = await fetch(`${base}/v1/turns/x`, { headers: { authorization: 'Bearer dev-acme-key' } });
      assert.equal(dev.status, 401);
      const prod = await fetch(`${base}/v1/turns/bad%20id`, { headers: { authorization: 'Bearer prod-globex-key' } });
      assert.equal(prod.status, 404);
    } finally {
      await api.close();
    }
  });
});
