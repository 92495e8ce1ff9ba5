// The chat page in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) against
// the real stack: sign in, ask, watch the answer stream, the table, the chart, the steps, the cache outcome,
// the Temporal link, a policy answer's sources, feedback, a bad key, and an answer that survives its
// connection being cut mid-stream. `UPDATE_SCREENSHOTS=1` rewrites the README's screenshot.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { REPO_ROOT } from '../../infra/config.ts';
import { SessionIdKey } from '../../workflows/shared/search-attributes.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

// The functions handed to page.evaluate and waitForFunction run in the page, where these exist (the test's own
// TypeScript has no DOM library).
declare const document: any;
declare const sessionStorage: any;

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling home on a machine with no network.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(REPO_ROOT, 'test', 'e2e', 'screenshots', 'chat-page.png');
const TEMPORAL_UI = 'http://temporal-ui.example.test:8233';
const ACME = { authorization: 'Bearer dev-acme-key' };

/** A TCP proxy in front of the API whose connections the test can cut, as a dropped network would. */
async function startCuttableProxy(target: string): Promise<{ url: string; cutAll(): number; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    open.add(client);
    const end = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    cutAll() {
      const n = open.size;
      for (const s of open) s.resetAndDestroy();
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

describe('the chat page in Chromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run installs it)` }, () => {
  let stack: TestStack;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    stack = await startStack({ api: true, env: { TEMPORAL_UI_URL: TEMPORAL_UI } });
    base = stack.apiUrl!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A fresh browser tab (its own sessionStorage) on the page, with what the page logs and requests kept. */
  async function openPage(origin = base) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: Request[] = [];
    page.on('console', (m) => {
      // A refused key is logged by Chromium as a failed resource: expected.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => requests.push(r));
    await page.goto(`${origin}/`);
    return { context, page, problems, requests };
  }

  async function signIn(page: Page, key: string) {
    await page.fill('#api-key', key);
    await page.click('#signin-button');
  }

  const answerCard = (page: Page, n: number) => page.locator('.exchange').nth(n).locator('.answer');
  const doneCard = (page: Page, n: number) => page.locator('.exchange').nth(n).locator('.answer.done');

  it('refuses a bad key with the API’s message, and an admin key for not being a shop’s', async () => {
    const { page, problems } = await openPage();
    await signIn(page, 'not-a-real-key');
    await page.waitForSelector('#signin-error:not([hidden])');
    assert.equal(await page.textContent('#signin-error'), 'The API refused the key: Unknown or revoked API key');
    assert.ok(await page.isHidden('#chat-view'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('turnflow.apiKey')), null);

    await signIn(page, 'dev-admin-key');
    await page.waitForFunction(() => /admin key/.test(document.querySelector('#signin-error')?.textContent ?? ''));
    assert.ok(await page.isHidden('#chat-view'));
    assert.deepEqual(problems, []);
  });

  it('streams an analytics answer with its table, chart, steps, cache outcome and Temporal link; a policy question in the same session lists its sources', async () => {
    const { page, problems, requests } = await openPage();
    await signIn(page, 'dev-acme-key');
    await page.waitForSelector('#chat-view:not([hidden])');
    assert.equal(await page.textContent('#tenant-name'), 'acme');
    const sessionId = await page.inputValue('#session-id');
    assert.match(sessionId, /^web-[a-z0-9]+$/);
    const chips = await page.locator('button.suggestion').allTextContents();
    assert.ok(chips.some((c) => c.includes('chart our monthly revenue for 2025')), chips.join(' | '));

    // Paced tokens, so the text is seen growing before `done`.
    for (const p of ['anthropic', 'openai'] as const) stack.setProfile(p, { tokensPerSec: 40 });
    try {
      await page.click('button.suggestion:has-text("chart our monthly revenue for 2025")');
      const midStream = await page.waitForFunction(() => {
        const card = document.querySelector('.answer');
        const length = card?.querySelector('.answer-text')?.textContent?.length ?? 0;
        return card?.classList.contains('streaming') && length > 0 ? length : false;
      });
      const seenWhileStreaming = (await midStream.jsonValue()) as number;
      await doneCard(page, 0).waitFor({ timeout: 60_000 });
      const text = (await answerCard(page, 0).locator('.answer-text').textContent())!;
      assert.ok(seenWhileStreaming < text.length, `streamed: ${seenWhileStreaming} of ${text.length} characters were shown before done`);

      const turnId = (await answerCard(page, 0).getAttribute('data-turn-id'))!;
      const stored = (await (await fetch(`${base}/v1/turns/${turnId}`, { headers: ACME })).json()) as { answer: string; workflowId: string; intent: string };
      assert.equal(stored.intent, 'analytics');
      assert.equal(text, stored.answer, 'the tokens joined are the answer, once');

      // The chart, loaded by an <img> from its signed URL (no header).
      const img = answerCard(page, 0).locator('img.chart');
      await img.waitFor();
      assert.match((await img.getAttribute('src'))!, /^\/v1\/charts\/[0-9a-f]{32}\.svg\?exp=\d+&sig=/);
      await page.waitForFunction((el) => (el as any).complete, await img.elementHandle());
      assert.ok((await img.evaluate((el) => (el as any).naturalWidth)) > 0, 'the chart image loaded');

      // The inspector: cache outcome, model, timings, cost, steps, and the turn's workflow in the Web UI.
      const fact = (name: string) => page.locator(`#inspector [data-field="${name}"] dd`).textContent();
      assert.equal(await fact('cache'), 'Miss');
      assert.match((await fact('model'))!, /offline-model/);
      assert.match((await fact('ttft'))!, /^[\d,]+ ms$/);
      assert.match((await fact('cost'))!, /^\$\d/);
      assert.equal(await page.textContent('#inspector .status-pill'), 'Done');
      const steps = await page.locator('#inspector .step').evaluateAll((lis) =>
        lis.map((li) => ({ name: li.getAttribute('data-step'), status: li.classList[1], ms: li.querySelector('.step-ms')?.textContent })),
      );
      for (const name of ['runSqlAgent', 'generateAnswer']) {
        const step = steps.find((s) => s.name === name);
        assert.equal(step?.status, 'completed', `${name}: ${JSON.stringify(steps)}`);
        assert.match(step!.ms!, /^[\d,]+ ms$/);
      }
      assert.equal(await page.getAttribute('a.temporal-link', 'href'), `${TEMPORAL_UI}/namespaces/default/workflows/${stored.workflowId}`);
      assert.equal(stored.workflowId, `turn-acme-${turnId}`);

      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.mouse.move(0, 0);
        await page.locator('#messages').evaluate((el) => (el.scrollTop = 0));
        await page.screenshot({ path: SCREENSHOT });
      }

      // The rows as a table, and the query.
      await answerCard(page, 0).locator('.tab[data-tab="table"]').click();
      assert.deepEqual(await answerCard(page, 0).locator('table.rows th').allTextContents(), ['month', 'revenue']);
      const rows = await answerCard(page, 0).locator('table.rows tbody tr').count();
      assert.equal(rows, 12);
      assert.equal(await answerCard(page, 0).locator('.tab[data-tab="table"]').textContent(), 'Table · 12 rows');
      await answerCard(page, 0).locator('.tab[data-tab="sql"]').click();
      assert.match((await answerCard(page, 0).locator('.sql-panel code').textContent())!, /^SELECT[\s\S]+FROM "acme"\.orders/);

      // Feedback: the buttons post the rating; a thumbs-up on an analytics answer makes its query an example.
      const posted = page.waitForRequest((r) => r.url().endsWith(`/v1/turns/${turnId}/feedback`) && r.method() === 'POST');
      await answerCard(page, 0).locator('button.feedback[data-rating="up"]').click();
      const request = await posted;
      assert.deepEqual(request.postDataJSON(), { rating: 'up' });
      assert.equal(await request.headerValue('authorization'), 'Bearer dev-acme-key');
      const response = (await request.response())!;
      assert.equal(response.status(), 201, await response.text());
      assert.equal(((await response.json()) as { example: string }).example, 'added');
      const note = answerCard(page, 0).locator('.feedback-note');
      await page.waitForFunction((el) => !/Sending/.test(el?.textContent ?? ''), await note.elementHandle());
      assert.equal(await note.textContent(), 'Thanks! Similar questions will use this query as an example.');
      assert.equal(await answerCard(page, 0).locator('button.feedback[data-rating="up"]').getAttribute('aria-pressed'), 'true');

      // A policy question in the same session: its sources are listed.
      for (const p of ['anthropic', 'openai'] as const) stack.setProfile(p, { tokensPerSec: 0 });
      await page.fill('#question', 'What is your return policy?');
      await page.press('#question', 'Enter');
      await doneCard(page, 1).waitFor({ timeout: 60_000 });
      const sources = await answerCard(page, 1).locator('.sources li').allTextContents();
      assert.ok(sources.some((s) => /returns/i.test(s)), sources.join(' | '));
      const policyTurn = (await answerCard(page, 1).getAttribute('data-turn-id'))!;
      const policy = (await (await fetch(`${base}/v1/turns/${policyTurn}`, { headers: ACME })).json()) as { workflowId: string; sources: { title: string }[] };
      assert.deepEqual(sources, policy.sources.map((s) => s.title));
      for (const workflowId of [stored.workflowId, policy.workflowId]) {
        const described = await stack.client.workflow.getHandle(workflowId).describe();
        assert.equal(described.typedSearchAttributes.get(SessionIdKey), sessionId, `${workflowId} ran in the page's session`);
      }
    } finally {
      for (const p of ['anthropic', 'openai'] as const) stack.setProfile(p, { tokensPerSec: 0 });
    }

    // The key went only in headers: no URL the page requested carries it.
    assert.ok(requests.every((r) => !r.url().includes('dev-acme-key')));
    assert.ok(!page.url().includes('dev-acme-key'));
    assert.deepEqual(problems, [], 'no script error and no CSP violation');
  });

  it('carries on after its connection is cut mid-answer: “reconnecting…”, then the whole answer, once', async () => {
    const proxy = await startCuttableProxy(base);
    try {
      const { context, page, problems, requests } = await openPage(proxy.url);
      await signIn(page, 'dev-acme-key');
      await page.waitForSelector('#chat-view:not([hidden])');
      for (const p of ['anthropic', 'openai'] as const) stack.setProfile(p, { tokensPerSec: 15 });
      await page.click('button.suggestion:has-text("Hello! What can you do?")');
      await page.waitForFunction(() => (document.querySelector('.answer.streaming .answer-text')?.textContent?.length ?? 0) > 10);

      // Offline first, so the page's reconnects fail until the network is back; then the connection is cut.
      await context.setOffline(true);
      assert.ok(proxy.cutAll() > 0, 'a connection was open');
      const shownBeforeCut = (await answerCard(page, 0).locator('.answer-text').textContent())!.length;
      await page.waitForFunction(() => /reconnecting…/.test(document.querySelector('.answer .turn-status')?.textContent ?? ''));
      assert.equal(await page.textContent('#inspector .status-pill'), 'Reconnecting…');
      await context.setOffline(false);

      await doneCard(page, 0).waitFor({ timeout: 60_000 });
      const text = (await answerCard(page, 0).locator('.answer-text').textContent())!;
      const turnId = (await answerCard(page, 0).getAttribute('data-turn-id'))!;
      const stored = (await (await fetch(`${base}/v1/turns/${turnId}`, { headers: ACME })).json()) as { answer: string };
      assert.ok(shownBeforeCut < stored.answer.length, 'the connection was cut before the answer was complete');
      assert.equal(text, stored.answer, 'the whole answer, once');
      assert.ok(await page.isHidden('.answer .turn-status'));

      // It resumed the turn's stream where it was (Last-Event-ID), not by asking again.
      const resumed = requests.filter((r) => r.url().endsWith(`/v1/turns/${turnId}/events`));
      assert.ok(resumed.length > 0, 'reconnected to the turn’s events');
      assert.match((await resumed.at(-1)!.headerValue('last-event-id')) ?? '', /^\d+-\d+$/);
      assert.equal(requests.filter((r) => r.url().endsWith('/v1/turns') && r.method() === 'POST').length, 1);
      assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|network/i.test(p)), []);
    } finally {
      for (const p of ['anthropic', 'openai'] as const) stack.setProfile(p, { tokensPerSec: 0 });
      await proxy.close();
    }
  });
});
