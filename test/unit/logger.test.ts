// What the logger never writes: credentials and user text, at the top level or one level down (an error's
// raw body, a request's headers). The whole stack's logs under real turns: test/e2e/log-secrets.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../infra/logger.ts';

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
