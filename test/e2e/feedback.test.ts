// Feedback that teaches, end to end: real turns through the API on the test stack (Temporal, the worker,
// PGlite app store, the tenants' data on the machine's PostgreSQL, the offline model behind the real SDKs),
// then POST /v1/turns/:turnId/feedback. The SQL prompts are read from what the offline model received.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { embedQuestion } from '../../activities/caches/semantic-store.ts';
import { indexSqlExamples, nearestSqlExamples, SQL_EXAMPLES } from '../../activities/sql/examples.ts';
import { SQL_TASK_LINE } from '../../activities/sql/prompts.ts';
import type { StatsResponse } from '../../api/stats.ts';
import { turnWorkflowId } from '../../workflows/shared/contract.ts';
import { readSse, type SseEvent } from '../helpers/sse.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';

const KEYS = { acme: 'dev-acme-key', globex: 'dev-globex-key', admin: 'dev-admin-key' } as const;
// Names a breakdown but no metric: the semantic layer does not compile it, so the model writes the SQL (and is
// shown the nearest examples); the rules are not sure of it (0.82), so the model reads it too.
const QUESTION = 'How did each category do last month?';
// Close in words, another period: a different slot signature, so no cache answers it and the model writes SQL again.
const SIMILAR = 'How did each category do in April?';

interface Asked {
  turnId: string;
  done: SseEvent;
  sql: SseEvent | undefined;
  /** The SQL prompts the offline model received during the turn. */
  sqlPrompts: string[];
}

describe('POST /v1/turns/:turnId/feedback end to end', () => {
  let stack: TestStack;
  let base: string;
  let first: Asked;

  const offline = () => stack.providers.offline!;
  const sqlPromptsSince = (mark: number) =>
    offline()
      .requests()
      .slice(mark)
      .map((r) => r.system)
      .filter((s) => s.startsWith(SQL_TASK_LINE));

  /** One turn through the API, streamed, and waited for until its workflow ended (the turn stored). */
  async function ask(tenant: 'acme' | 'globex', message: string): Promise<Asked> {
    offline().resetStats();
    const res = await fetch(`${base}/v1/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS[tenant]}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ sessionId: `fb-${randomUUID().slice(0, 8)}`, message }),
    });
    assert.equal(res.status, 200);
    const events = await readSse(res);
    const done = events.at(-1)!;
    assert.equal(done.event, 'done', JSON.stringify(done.data));
    const workflowId = events[0]!.data.workflowId as string;
    await stack.client.workflow
      .getHandle(workflowId)
      .result()
      .catch((err) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
    return { turnId: events[0]!.data.turnId as string, done, sql: events.find((e) => e.event === 'sql'), sqlPrompts: sqlPromptsSince(0) };
  }

  const post = (key: keyof typeof KEYS, turnId: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/turns/${turnId}/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS[key]}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const tenantExamples = async (tenant: string) =>
    (await stack.stores.app.pool.query<{ question: string; sql: string; turn_id: string }>('SELECT question, sql, turn_id FROM sql_examples WHERE tenant_id = $1 ORDER BY question', [tenant])).rows;
  const stats = async (key: keyof typeof KEYS) => {
    const res = await fetch(`${base}/v1/stats`, { headers: { authorization: `Bearer ${KEYS[key]}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as StatsResponse;
  };

  before(async () => {
    stack = await startStack({ api: true });
    base = stack.apiUrl!;
    first = await ask('acme', QUESTION);
  });
  after(() => stack?.close());

  it('a thumbs-up on an analytics answer puts its question and SQL in the next similar question’s SQL prompt', async () => {
    assert.equal(first.done.data.intent, 'analytics');
    assert.equal(first.done.data.timings.steps['runSqlAgent.compiled'], undefined, 'the model wrote this SQL (the layer did not compile it)');
    assert.ok(first.sql, 'the turn ran a query');
    assert.ok(first.sqlPrompts.length > 0, 'the model was asked for SQL');
    assert.ok(!first.sqlPrompts.some((p) => p.includes(`Q: ${QUESTION}`)), 'before any feedback, the question is no example');

    const res = await post('acme', first.turnId, { rating: 'up' });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { turnId: string; rating: string; example: string; sql: string; replaced: boolean };
    assert.deepEqual({ turnId: body.turnId, rating: body.rating, example: body.example, replaced: body.replaced }, { turnId: first.turnId, rating: 'up', example: 'added', replaced: false });
    assert.equal(body.sql, first.sql.data.sql, 'the example is the query that answered the turn');
    assert.deepEqual(await tenantExamples('acme'), [{ question: QUESTION, sql: first.sql.data.sql, turn_id: first.turnId }]);

    const next = await ask('acme', SIMILAR);
    assert.equal(next.done.data.intent, 'analytics');
    assert.equal(next.done.data.cache, 'none');
    const prompt = next.sqlPrompts.at(-1);
    assert.ok(prompt, 'the model was asked for SQL for the similar question');
    // The prompt has one line per example (the SQL's line breaks folded).
    const oneLine = (first.sql.data.sql as string).replace(/\s*[\r\n]+\s*/g, ' ');
    assert.ok(prompt.includes(`Q: ${QUESTION}\nSQL: ${oneLine}\n`), `the approved example is in the SQL prompt:\n${prompt.slice(prompt.indexOf('Examples:'))}`);
  });

  it("never shows one tenant's example to another", async () => {
    const globex = await ask('globex', SIMILAR);
    const prompt = globex.sqlPrompts.at(-1);
    assert.ok(prompt, 'globex’s model was asked for SQL');
    assert.ok(prompt.includes('Examples:\nQ: '), 'globex is shown the built-in examples');
    assert.ok(!prompt.includes(QUESTION), "acme's example never reaches globex's prompt");
    // And at the store: the same vector, acme's nearest include its example, globex's never do.
    const vector = await embedQuestion(stack.providers.embedder, SIMILAR, AbortSignal.timeout(5000));
    const nearest = (tenantId: string) => nearestSqlExamples(stack.stores.app.pool, { tenantId, embedder: stack.providers.embedder.model, vector, k: 100 });
    assert.ok((await nearest('acme')).some((e) => e.question === QUESTION));
    assert.ok(!(await nearest('globex')).some((e) => e.question === QUESTION));
    assert.deepEqual(await tenantExamples('globex'), []);
  });

  it('refuses a corrected SQL that writes, reads another schema or does not run, and stores nothing', async () => {
    const before = await tenantExamples('acme');
    for (const [correctedSql, reason] of [
      ['DELETE FROM orders', /SELECT/i],
      ['SELECT id, total_cents FROM globex.orders', /globex|schema|table/i],
      ['SELECT no_such_column FROM orders', /does not run.*no_such_column/],
    ] as const) {
      const res = await post('acme', first.turnId, { rating: 'down', correctedSql });
      assert.equal(res.status, 422, correctedSql);
      const { error } = (await res.json()) as { error: { code: string; message: string; details: { example: string; reason: string } } };
      assert.equal(error.code, 'sql_rejected');
      assert.equal(error.details.example, 'rejected');
      assert.match(error.details.reason, reason, correctedSql);
    }
    assert.deepEqual(await tenantExamples('acme'), before, 'no refused query reached the example store');
    const { rows } = await stack.stores.app.pool.query('SELECT rating, corrected_sql FROM turn_feedback WHERE tenant_id = $1 AND turn_id = $2', ['acme', first.turnId]);
    assert.deepEqual(rows, [{ rating: 'up', corrected_sql: null }], 'the earlier feedback stands');
  });

  it('a second post replaces the first (200): a corrected SQL becomes the example, a plain thumbs-down removes it', async () => {
    const corrected = 'SELECT c.name AS category, count(DISTINCT o.id) AS orders FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id JOIN categories c ON c.id = p.category_id GROUP BY c.name ORDER BY orders DESC';
    const res = await post('acme', first.turnId, { rating: 'down', correctedSql: `  ${corrected};\n`, comment: 'Count orders, not revenue. Mail me at ann@example.com' });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { example: string; sql: string; replaced: boolean };
    assert.equal(body.example, 'updated');
    assert.equal(body.replaced, true);
    assert.equal(body.sql, corrected, 'kept as the user wrote it, without the trailing semicolon');
    assert.deepEqual(await tenantExamples('acme'), [{ question: QUESTION, sql: body.sql, turn_id: first.turnId }]);
    const { rows } = await stack.stores.app.pool.query('SELECT rating, comment FROM turn_feedback WHERE tenant_id = $1 AND turn_id = $2', ['acme', first.turnId]);
    assert.deepEqual(rows, [{ rating: 'down', comment: 'Count orders, not revenue. Mail me at [email]' }], 'the comment is stored redacted');

    const plain = await post('acme', first.turnId, { rating: 'down' });
    assert.equal(plain.status, 200);
    assert.equal(((await plain.json()) as { example: string }).example, 'removed');
    assert.deepEqual(await tenantExamples('acme'), []);

    const again = await post('acme', first.turnId, { rating: 'up' });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { example: string }).example, 'added');
  });

  it('keeps feedback on an answer that is not analytics without making an example', async () => {
    const hello = await ask('acme', 'Hello! What can you do?');
    const res = await post('acme', hello.turnId, { rating: 'up' });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { example: string; reason: string };
    assert.equal(body.example, 'not_analytics');
    assert.match(body.reason, /small_talk/);
    const sql = await post('acme', hello.turnId, { rating: 'down', correctedSql: 'SELECT count(*) FROM orders' });
    assert.equal(sql.status, 422, 'a corrected SQL needs an analytics turn');
  });

  it("answers 404 for another tenant's turn or no turn, 409 while a turn runs or when it ended without an answer", async () => {
    for (const [key, turnId] of [['globex', first.turnId], ['acme', randomUUID()], ['acme', 'not a turn id']] as const) {
      const res = await post(key, turnId, { rating: 'up' });
      assert.equal(res.status, 404, `${key} ${turnId}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'turn_not_found');
    }
    // A turn whose workflow no worker picks up: running, and never stored.
    const turnId = randomUUID();
    const handle = await stack.client.workflow.start('chatTurn', {
      taskQueue: `no-worker-${randomUUID()}`,
      workflowId: turnWorkflowId('acme', turnId),
      args: [{ turnId, tenantId: 'acme', sessionId: 'fb-running', message: QUESTION, receivedAt: Date.now() }],
    });
    try {
      const running = await post('acme', turnId, { rating: 'up' });
      assert.equal(running.status, 409);
      assert.equal(running.headers.get('retry-after'), '1');
      assert.equal(((await running.json()) as { error: { code: string } }).error.code, 'turn_running');
    } finally {
      await handle.terminate('test over');
    }
    const ended = await post('acme', turnId, { rating: 'up' });
    assert.equal(ended.status, 409);
    assert.equal(((await ended.json()) as { error: { code: string } }).error.code, 'turn_not_answered');
  });

  it('answers a bad body with a 400 naming the field, and an admin key with a 403', async () => {
    for (const [body, path] of [
      [{}, 'rating'],
      [{ rating: 'meh' }, 'rating'],
      [{ rating: 'up', comment: 'x'.repeat(2001) }, 'comment'],
      [{ rating: 'up', comment: 42 }, 'comment'],
      [{ rating: 'up', correctedSql: '   ' }, 'correctedSql'],
      [{ rating: 'up', correctedSql: 'SELECT 1', sql: 'SELECT 2' }, 'sql'],
      [{ rating: 'up', stars: 5 }, ''],
    ] as const) {
      const res = await post('acme', first.turnId, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const { error } = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } };
      assert.equal(error.code, 'invalid_request');
      assert.ok(error.details.some((d) => d.path === path || (path === '' && /stars/.test(d.message))), JSON.stringify(error.details));
    }
    const notJson = await post('acme', first.turnId, 'rating=up', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(notJson.status, 415);
    const admin = await post('admin', first.turnId, { rating: 'up' });
    assert.equal(admin.status, 403);
  });

  it('keeps what a tenant taught when the deployment changes embedders (re-embedded when the examples are indexed)', async () => {
    const real = stack.providers.embedder;
    const other = { model: `other-embedder-${randomUUID().slice(0, 8)}`, embed: (texts: string[], signal?: AbortSignal) => real.embed(texts, signal) };
    await indexSqlExamples(stack.stores.app.pool, other);
    const vector = await embedQuestion(other, SIMILAR, AbortSignal.timeout(5000));
    const nearest = (tenantId: string) => nearestSqlExamples(stack.stores.app.pool, { tenantId, embedder: other.model, vector, k: 100 });
    const acme = await nearest('acme');
    assert.ok(acme.some((e) => e.question === QUESTION), "acme's example is indexed under the new embedder");
    assert.equal(acme.length, SQL_EXAMPLES.length + 1);
    assert.ok(!(await nearest('globex')).some((e) => e.question === QUESTION), 'and still only for acme');
    assert.equal(await indexSqlExamples(stack.stores.app.pool, other), 0, 'indexing again has nothing to do');
  });

  it('counts feedback in GET /v1/stats per tenant and for the admin key, and in /metrics', async () => {
    // acme: the analytics turn's latest feedback (up, its example added again) and the greeting's (up; the
    // refused correction after it stored nothing). A replaced post counts once, as its latest. globex gave none.
    const acme = await stats('acme');
    assert.deepEqual(acme.feedback, { up: 2, down: 0, corrected: 0, examplesAdded: 1 });
    assert.deepEqual((await stats('globex')).feedback, { up: 0, down: 0, corrected: 0, examplesAdded: 0 });
    const all = await stats('admin');
    assert.deepEqual(all.feedback, acme.feedback);
    assert.deepEqual(all.byTenant?.acme?.feedback, acme.feedback);
    assert.deepEqual(all.byTenant?.globex?.feedback, { up: 0, down: 0, corrected: 0, examplesAdded: 0 });

    const text = await (await fetch(`${base}/metrics`)).text();
    const sample = (labels: string) => Number(text.split('\n').find((l) => l.startsWith(`turnflow_feedback_total{${labels}}`))?.split(' ').at(-1) ?? 0);
    // Every accepted post is counted (refused ones are not): up/added twice, down/updated, down/removed, up/not_analytics.
    assert.equal(sample('tenant="acme",rating="up",example="added"'), 2);
    assert.equal(sample('tenant="acme",rating="down",example="updated"'), 1);
    assert.equal(sample('tenant="acme",rating="down",example="removed"'), 1);
    assert.equal(sample('tenant="acme",rating="up",example="not_analytics"'), 1);
  });
});
