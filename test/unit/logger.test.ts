// What the logger never writes: credentials and user text, at the top level or one level down (an error's
// raw body, a request's headers). The whole stack's logs under real turns: test/e2e/log-secrets.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger, resolveLogFormat } from '../../infra/logger.ts';
import { createMetrics } from '../../infra/metrics.ts';
import { turnLogSentence } from '../../infra/turn-log.ts';
import type { TurnResult } from '../../workflows/shared/contract.ts';

const SECRET = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const PII = 'card 4242 4242 4242 4242, jane@example.com';

function captured(fn: (log: ReturnType<typeof createLogger>) => void): string {
  let out = '';
  const log = createLogger('trace', 'test', { write: (s: string) => void (out += s) });
  fn(log);
  return out;
}

describe('logger redaction', () => {
  it('redacts keys and user text wherever a log call puts them, and keeps error messages', () => {
    const parseError = Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', body: `{"message":"${PII}"` });
    const out = captured((log) => {
      log.info({ authorization: `Bearer ${SECRET}`, headers: { authorization: `Bearer ${SECRET}` } }, 'a');
      log.info({ req: { headers: { authorization: `Bearer ${SECRET}`, cookie: `s=${SECRET}` }, body: { message: PII } } }, 'b');
      log.warn({ err: parseError }, 'c');
      log.info({ message: PII, input: { message: PII, question: PII }, answer: PII, result: { answer: PII } }, 'd');
      log.child({ requestId: 'r1' }).info({ apiKey: SECRET, provider: { apiKey: SECRET }, sig: SECRET, token: SECRET, prompt: PII, text: PII }, 'e');
    });
    assert.equal(out.trim().split('\n').length, 5);
    assert.ok(!out.includes('sk_live'), out);
    assert.ok(!out.includes('4242'), out);
    assert.ok(!out.includes('jane@'), out);
    assert.match(out, /Unexpected end of JSON input/, 'the error message stays readable');
    assert.match(out, /"requestId":"r1"/);
  });
});

/** A pretty logger writing into a string (pino-pretty takes a real stream). */
function prettyCapture(): { log: ReturnType<typeof createLogger>; out: () => string } {
  let out = '';
  const sink = new Writable({ write(chunk, _enc, cb) { out += String(chunk); cb(); } });
  return { log: createLogger('info', 'turnflow', sink, 'pretty'), out: () => out };
}

describe('log format', () => {
  it('is pretty on a terminal and JSON everywhere else, unless forced', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });

  it('writes lines a person reads (time, level, sentence, fields), redacted as the JSON ones are', () => {
    const { log, out } = prettyCapture();
    log.child({ requestId: 'r1' }).info({ tenant: 'acme', authorization: `Bearer ${SECRET}`, message: PII, answer: PII }, 'turn started');
    const text = out();
    assert.match(text, /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: turnflow: turn started \{"requestId":"r1","tenant":"acme",/);
    assert.ok(!text.startsWith('{'), 'not JSON');
    assert.ok(!text.includes('sk_live') && !text.includes('4242') && !text.includes('jane@'), text);
  });
});

describe('the turn\'s log line', () => {
  const result = {
    turnId: '3f2a9c1e-0000-4000-8000-000000000000', workflowId: 'turn-acme-3f2a9c1e-0000-4000-8000-000000000000',
    answer: `Your revenue was 12,345.67 (${PII})`, cache: 'none', intent: 'analytics', complexity: 'simple', slots: {},
    provider: 'anthropic', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 }, costUsd: 0.000123,
    timings: { totalMs: 1840, ttftMs: 412, steps: {} }, fallbacks: [],
  } as unknown as TurnResult;

  it('says tenant, turn, intent, cache, time and cost in one sentence', () => {
    assert.equal(turnLogSentence('acme', result), 'turn acme/3f2a9c1e analytics, cache none, 1.84 s (first token 412 ms), $0.000123 via anthropic');
    assert.equal(turnLogSentence('acme', { ...result, error: { code: 'content_policy', message: 'x' }, provider: undefined, costUsd: 0, timings: { totalMs: 35, ttftMs: null, steps: {} } } as TurnResult), 'turn acme/3f2a9c1e content_policy, cache none, 35 ms, $0.000000');
  });

  it('is written once per counted turn, at info, without the answer', () => {
    let out = '';
    const log = createLogger('info', 'worker', { write: (s: string) => void (out += s) });
    createMetrics({ defaultMetrics: false, turnLog: log }).recordTurn('acme', result);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 30);
    assert.equal(lines[0].msg, turnLogSentence('acme', result));
    const t = lines[0].turn;
    assert.deepEqual([t.tenant, t.turnId, t.intent, t.cache, t.ms, t.ttftMs, t.costUsd], ['acme', result.turnId, 'analytics', 'none', 1840, 412, 0.000123]);
    assert.ok(!out.includes('12,345') && !out.includes('4242'), out);
  });

  it('is the sentence alone on a terminal', () => {
    const { log, out } = prettyCapture();
    createMetrics({ defaultMetrics: false, turnLog: log }).recordTurn('acme', { ...result, cache: 'exact' } as TurnResult);
    assert.match(out(), /^\[[\d:.]+\] INFO: turnflow: turn acme\/3f2a9c1e analytics, cache exact, 1\.84 s \(first token 412 ms\), \$0\.000123\n$/);
  });
});
