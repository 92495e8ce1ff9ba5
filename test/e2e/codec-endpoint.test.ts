// The codec endpoint over HTTP, as operators use it: the `temporal` CLI with --codec-endpoint and --codec-auth
// (the admin key), the Web UI through its token path from its own origin (CORS), and refusals in the API's JSON
// error shape. Turns run through the API; their history is read raw from the real dev server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Payload } from '@temporalio/common';
import { REPO_ROOT } from '../../infra/config.ts';
import { defaultCliCacheDir, findOrBuildTemporalCli } from '../../infra/dev/temporal-cli.ts';
import { createPayloadCodec, parsePayloadKeys } from '../../infra/payload-codec.ts';
import { codecUiToken } from '../../infra/payload-keys.ts';
import { readSse } from '../helpers/sse.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';

const ADMIN = { authorization: 'Bearer dev-admin-key', 'content-type': 'application/json' };
const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');
const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) });
const dataText = (p: { data: string }) => Buffer.from(p.data, 'base64').toString('utf8');

describe('codec endpoint', () => {
  let stack: TestStack;
  let base: string;
  let workflowId: string;
  let message: string;
  let stored: Payload;
  before(async () => {
    stack = await startStack({ api: true });
    base = stack.apiUrl!;
    message = fresh('Hello! Which payment methods do you accept?');
    const res = await fetch(`${base}/v1/turns`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream', 'idempotency-key': `codec-${randomBytes(6).toString('hex')}` },
      body: JSON.stringify({ sessionId: 'codec-e2e', message }),
    });
    const events = await readSse(res);
    workflowId = events.find((e) => e.event === 'turn')!.data.workflowId;
    assert.ok(events.some((e) => e.event === 'done'));
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    stored = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  });
  after(() => stack.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = ADMIN) => fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('stores the turn input encrypted, and the memo of an Idempotency-Key turn too', async () => {
    assert.equal(Buffer.from(stored.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(stored.data!).toString('latin1').includes('payment methods'));
    const desc = await stack.client.connection.workflowService.describeWorkflowExecution({ namespace: stack.temporal.namespace, execution: { workflowId } });
    const memo = desc.workflowExecutionInfo?.memo?.fields?.bodyHash;
    assert.ok(memo, 'the turn has its idempotency memo');
    assert.equal(Buffer.from(memo.metadata!.encoding!).toString(), 'binary/encrypted', 'visibility (memo) holds ciphertext');
  });

  it('refuses without the admin key, in the JSON error shape', async () => {
    const none = await post('/v1/codec/decode', { payloads: [] }, { 'content-type': 'application/json' });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
    const wrong = await post('/v1/codec/decode', { payloads: [] }, { authorization: 'Bearer nope', 'content-type': 'application/json' });
    assert.equal(wrong.status, 401);
    const tenant = await post('/v1/codec/decode', { payloads: [toJson(stored)] }, { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json' });
    assert.equal(tenant.status, 403, 'a tenant key would read every tenant’s turns');
    assert.equal(((await tenant.json()) as { error: { code: string } }).error.code, 'admin_only');
  });

  it('decodes a turn’s payload with the admin key, and encodes', async () => {
    const res = await post('/v1/codec/decode', { payloads: [toJson(stored)] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
    assert.ok(dataText(payloads[0]!).includes(message), 'the question, decoded');

    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello codec"').toString('base64') };
    const encoded = (await (await post('/v1/codec/encode', { payloads: [plain] })).json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    const back = (await (await post('/v1/codec/decode', encoded)).json()) as { payloads: { data: string }[] };
    assert.equal(dataText(back.payloads[0]!), '"hello codec"');
  });

  it('rejects bad input with the JSON error shape: not JSON, wrong shape, unknown key, too large', async () => {
    const notJson = await post('/v1/codec/decode', 'payloads', { authorization: 'Bearer dev-admin-key', 'content-type': 'text/plain' });
    assert.equal(notJson.status, 415);
    const shape = await post('/v1/codec/decode', { payloads: [{ data: 'not base64!' }] });
    assert.equal(shape.status, 400);
    assert.equal(((await shape.json()) as { error: { code: string } }).error.code, 'invalid_request');
    const [foreign] = await createPayloadCodec(parsePayloadKeys(`other-deployment:${randomBytes(32).toString('base64')}`)).encode([{ metadata: {}, data: new Uint8Array([1]) }]);
    const unknown = await post('/v1/codec/decode', { payloads: [toJson(foreign!)] });
    assert.equal(unknown.status, 400);
    const err = ((await unknown.json()) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'unknown_payload_key');
    assert.match(err.message, /"other-deployment"/);
    const huge = await post('/v1/codec/decode', { payloads: [{ data: 'A'.repeat(5 * 1024 * 1024) }] });
    assert.equal(huge.status, 413);
  });

  it('serves the Web UI on its token path, to its own origin only (CORS)', async () => {
    const token = codecUiToken(stack.config, stack.config.PAYLOAD_KEYS!);
    const origin = stack.config.CODEC_CORS_ORIGINS[0]!;
    const preflight = await fetch(`${base}/v1/codec/ui/${token}/decode`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/i);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);

    const ui = { origin, 'content-type': 'application/json', 'x-namespace': 'default' };
    const res = await post(`/v1/codec/ui/${token}/decode`, { payloads: [toJson(stored)] }, ui);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.ok(dataText(((await res.json()) as { payloads: { data: string }[] }).payloads[0]!).includes(message));

    const wrongToken = await post(`/v1/codec/ui/${token.slice(0, -2)}xx/decode`, { payloads: [toJson(stored)] }, ui);
    assert.equal(wrongToken.status, 404);
    const elsewhere = await fetch(`${base}/v1/codec/ui/${token}/decode`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });

  it('lets `temporal workflow show` read the turn with --codec-endpoint and --codec-auth', async (t) => {
    const cli = await findOrBuildTemporalCli({ cacheDir: defaultCliCacheDir(REPO_ROOT, process.env.TEMPORAL_CLI_CACHE_DIR), log: stack.log, build: false });
    if (!cli) return t.skip('no temporal CLI on this machine');
    // Asynchronously: the CLI calls back into this process's API.
    const show = async (...extra: string[]) =>
      (await promisify(execFile)(cli.path, ['workflow', 'show', '--address', stack.temporal.address, '--namespace', stack.temporal.namespace, '--workflow-id', workflowId, '--output', 'json', ...extra], { encoding: 'utf8', timeout: 30_000 })).stdout;
    // `-o json` prints payloads as proto JSON: metadata and data in base64.
    const payloadTexts = (out: string) => [...out.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
    const raw = await show();
    assert.ok(raw.includes(Buffer.from('binary/encrypted').toString('base64')) && !payloadTexts(raw).includes('payment methods'), 'without the codec: ciphertext');
    const decoded = await show('--codec-endpoint', `${base}/v1/codec`, '--codec-auth', 'Bearer dev-admin-key');
    assert.ok(payloadTexts(decoded).includes(message), 'with the codec endpoint: the question');
    assert.ok(!decoded.includes(Buffer.from('binary/encrypted').toString('base64')), 'every payload decoded');
    await assert.rejects(show('--codec-endpoint', `${base}/v1/codec`, '--codec-auth', 'Bearer dev-acme-key'), 'a tenant key is refused');
  });
});
