// The README's first command, as a newcomer runs it: `npm start` on embedded defaults (its own dev
// server with Web UI, PGlite in a fresh DATA_DIR, in-process bus, offline model), then one turn over HTTP.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startNpmStart, type NpmStart } from '../helpers/npm-start.ts';
import { answerFromTokens, readSse } from '../helpers/sse.ts';

describe('npm start', () => {
  let app: NpmStart | undefined;
  after(() => app?.close());

  it('brings the stack up on a fresh DATA_DIR and answers a turn', async (t) => {
    app = await startNpmStart({ logLevel: 'warn', offlineProfiles: '{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0}}', tmpPrefix: 'turnflow-start-' });
    const { port, temporalPort, uiPort, dataDir } = app;
    t.diagnostic(`up in ${app.upMs} ms (fresh DATA_DIR, CLI cached)`);
    assert.match(app.output(), new RegExp(`API\\s+http://127.0.0.1:${port}`));
    assert.match(app.output(), new RegExp(`Temporal UI\\s+http://127.0.0.1:${uiPort}`));
    assert.match(app.output(), /OFFLINE MODEL/);
    assert.match(app.output(), /acme: dev-acme-key/);

    const res = await fetch(`http://127.0.0.1:${port}/v1/turns`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: 'newcomer', message: 'Hello! What can you do?' }),
    });
    const events = await readSse(res);
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, 'a done event');
    assert.equal(done.data.model, 'offline-model');
    assert.equal(answerFromTokens(events), done.data.answer);
    assert.equal((await fetch(`http://127.0.0.1:${uiPort}/`)).status, 200, 'the Web UI answers');
    // The chat page is at the API's root, and links turns to this Web UI.
    assert.match(app.output(), new RegExp(`Chat page\\s+http://127.0.0.1:${port}/`));
    assert.match(await (await fetch(`http://127.0.0.1:${port}/`)).text(), /<title>turnflow · chat<\/title>/);
    const chatConfig = await (await fetch(`http://127.0.0.1:${port}/chat/config.json`)).json();
    assert.deepEqual(chatConfig, { temporalUi: { url: `http://127.0.0.1:${uiPort}`, namespace: 'default' } });

    // Payloads are encrypted with a development key kept in DATA_DIR, and the Web UI decodes them out of the box:
    // the dev server was given the API's codec endpoint, which answers the Web UI's origin.
    assert.equal(statSync(path.join(dataDir, 'payload-keys')).mode & 0o777, 0o600);
    assert.match(app.output(), /Payloads\s+encrypted in Temporal \(development key/);
    const settings = await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).text();
    const endpoint = /"Endpoint":"([^"]+)"/.exec(settings)?.[1];
    assert.ok(endpoint?.startsWith(`http://127.0.0.1:${port}/v1/codec/ui/`), `the Web UI's codec endpoint: ${settings.slice(0, 400)}`);
    const workflowId = events.find((e) => e.event === 'turn')!.data.workflowId as string;
    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    await connection.close();
    const stored = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.equal(Buffer.from(stored.metadata!.encoding!).toString(), 'binary/encrypted');
    const origin = `http://127.0.0.1:${uiPort}`;
    const preflight = await fetch(`${endpoint}/decode`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');
    const decoded = await fetch(`${endpoint}/decode`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(stored.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(stored.data) }] }),
    });
    assert.equal(decoded.status, 200);
    const { payloads } = (await decoded.json()) as { payloads: { data: string }[] };
    assert.match(Buffer.from(payloads[0]!.data, 'base64').toString(), /Hello! What can you do\?/);

    // On the embedded store (tenant data in PGlite, seeded up to today): data and documents answer.
    const ask = async (message: string) =>
      readSse(
        await fetch(`http://127.0.0.1:${port}/v1/turns`, {
          method: 'POST',
          headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ sessionId: 'newcomer', message }),
        }),
      );
    const analytics = await ask('What was our revenue last month by category?');
    const sql = analytics.find((e) => e.event === 'sql');
    assert.ok(sql && sql.data.rowCount >= 2, 'rows from the embedded tenant data');
    assert.match(analytics.at(-1)!.data.answer, /\$[\d,]+\.\d\d/, 'figures in dollars');
    const policy = await ask('What is your return policy?');
    assert.match(policy.at(-1)!.data.answer, /30 days/);
  });
});
