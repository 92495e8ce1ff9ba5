// Secrets and personal data stay out of the logs. `npm start` (API, worker, activities, workflows, the
// Temporal dev server's output, the embedded store and the offline model, all in one process tree whose
// stdout and stderr are captured here) at the most verbose level, then real turns and failing requests
// that carry a card number, an e-mail address and API-key-looking strings; not one of them may appear in
// any line any of those processes wrote.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { startNpmStart, type NpmStart } from '../helpers/npm-start.ts';
import { readSse } from '../helpers/sse.ts';

const CARD = '4242 4242 4242 4242';
const EMAIL = 'jane.leaktest@example.com';
const API_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
/** A wrong Bearer key: a credential all the same (a typo of a real one, or another service's). */
const BAD_BEARER = 'tf_9f8e7d6c5b4a3f2e1d0cBadKeyLeakTest';
const PERSONAL = `my card is ${CARD}, mail me at ${EMAIL}, and our key is ${API_KEY}`;
/** What must never appear, in every spelling a log could give it. */
const NEEDLES = [CARD, CARD.replace(/ /g, ''), CARD.replace(/ /g, '-'), EMAIL, API_KEY, BAD_BEARER, 'jane.leaktest'];

describe('logs', () => {
  let app: NpmStart | undefined;
  after(() => app?.close());

  it('carry no card number, e-mail address, API key or chart URL signature, from turns or failing requests', async (t) => {
    app = await startNpmStart({
      logLevel: 'trace',
      offlineProfiles: '{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0},"openai":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0}}',
      tmpPrefix: 'turnflow-logs-',
    });
    const { port } = app;
    const base = `http://127.0.0.1:${port}`;
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/v1/turns`, { method: 'POST', headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream', ...headers }, body });

    // Real turns: small talk, an analytics question (SQL, chart), a policy question, each carrying the secrets.
    const turnIds: string[] = [];
    let chartUrl: string | undefined;
    for (const message of [`Hello! What can you do? ${PERSONAL}`, `What was our revenue last month by category? ${PERSONAL}`, `What is your return policy? ${PERSONAL}`]) {
      const events = await readSse(await post(JSON.stringify({ sessionId: 'logs', message })));
      assert.equal(events.at(-1)?.event, 'done', events.map((e) => e.event).join(' '));
      turnIds.push(events[0]!.data.turnId);
      chartUrl ??= events.find((e) => e.event === 'chart')?.data.svgUrl;
    }
    // The same question again: answered from the cache by the API.
    assert.equal((await readSse(await post(JSON.stringify({ sessionId: 'logs', message: `Hello! What can you do? ${PERSONAL}` })))).at(-1)?.data.cache, 'exact');
    assert.ok(chartUrl, 'the analytics turn had a chart');
    assert.equal((await fetch(base + chartUrl)).status, 200);
    const sig = new URL(chartUrl, base).searchParams.get('sig')!;

    // Failing requests: a wrong key that is a secret itself, invalid bodies carrying the secrets.
    const failing: [Promise<Response>, number][] = [
      [post(JSON.stringify({ sessionId: 'logs', message: PERSONAL }), { authorization: `Bearer ${BAD_BEARER}` }), 401],
      [post(JSON.stringify({ sessionId: `bad id ${EMAIL}`, message: PERSONAL })), 400],
      [post(JSON.stringify({ sessionId: 'logs', message: `${PERSONAL} `.repeat(60) })), 400],
      [post(`{"sessionId":"logs","message":"${PERSONAL}"`), 400],
      [post(JSON.stringify({ sessionId: 'logs', message: PERSONAL, extra: API_KEY, userId: EMAIL.repeat(20) })), 400],
      [post(PERSONAL, { 'content-type': 'text/plain' }), 415],
      [fetch(`${base}/v1/turns/${encodeURIComponent(API_KEY)}?token=${API_KEY}`, { headers: { authorization: 'Bearer dev-acme-key' } }), 404],
      [fetch(`${base}/v1/charts/${'a'.repeat(32)}.svg?exp=1&sig=${API_KEY}`), 403],
      [fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${BAD_BEARER}` } }), 200],
    ];
    for (const [res, status] of failing) assert.equal((await res).status, status);

    // Let the background work (persisting, recording the cached hit) finish and log, then stop the stack.
    await new Promise((r) => setTimeout(r, 2500));
    await app.stop();
    const output = app.output();

    // The capture is the real thing: it has the turns' own log lines (debug: "turn started" with the turn id).
    for (const id of turnIds.slice(0, 2)) assert.ok(output.includes(id), `the logs mention turn ${id}`);
    // One info line per finished turn (the three, and the hit the API answered), JSON off a terminal, with its figures.
    const turnLines = output.split('\n').filter((l) => l.startsWith('{') && l.includes('"turn":{')).map((l) => JSON.parse(l) as { level: number; msg: string; turn: Record<string, unknown> });
    for (const id of turnIds) assert.equal(turnLines.filter((l) => l.turn.turnId === id).length, 1, `one line for turn ${id}`);
    assert.equal(turnLines.length, 4, turnLines.map((l) => l.msg).join('\n'));
    assert.ok(turnLines.every((l) => l.level === 30 && l.turn.tenant === 'acme' && typeof l.turn.ms === 'number' && typeof l.turn.costUsd === 'number' && l.msg.startsWith('turn acme/')));
    assert.deepEqual(turnLines.map((l) => l.turn.cache), ['none', 'none', 'none', 'exact']);
    // LOG_CAPTURE_FILE=<path>: keep what was captured, to read it.
    if (process.env.LOG_CAPTURE_FILE) writeFileSync(process.env.LOG_CAPTURE_FILE, output);
    const lines = output.split('\n');
    t.diagnostic(`${lines.length} log lines captured`);
    for (const needle of [...NEEDLES, sig]) {
      const hits = lines.filter((l) => l.includes(needle));
      assert.deepEqual(hits.map((l) => l.slice(0, 400)), [], `"${needle}" appears in the logs`);
    }
  });
});
