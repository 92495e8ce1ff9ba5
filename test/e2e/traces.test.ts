// Traces end to end (README, "Traces"): a real turn through the HTTP API and a worker on the run's Temporal
// dev server, with tracing on and the spans exported to memory. One trace from the HTTP request through the
// workflow and its activities to every model call, and nothing secret or personal on any span.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { updateTenantSettings } from '../../activities/tenant/store.ts';
import { createLogger } from '../../infra/logger.ts';
import { MODEL_CALL_ATTRIBUTES as A } from '../../infra/llm/traced-provider.ts';
import { startTelemetry, type Telemetry } from '../../infra/telemetry.ts';
import type { ModelCall, TurnResult } from '../../workflows/shared/contract.ts';
import { readSse } from '../helpers/sse.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';

const KEY = 'dev-acme-key';

describe('traces', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let stack: TestStack;
  before(async () => {
    telemetry = await startTelemetry({
      config: { OTEL_SDK_DISABLED: false },
      service: 'turnflow-test',
      log: createLogger('warn', 'test'),
      spanProcessor: new SimpleSpanProcessor(exporter),
    });
    // OpenAI is slower to its first token, so with both started at once Anthropic wins and OpenAI loses the race.
    stack = await startStack({
      api: true,
      telemetry,
      profiles: '{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0},"openai":{"ttftMs":600,"tokensPerSec":0,"jitterMs":0}}',
    });
    // The model reads the question (capture and detect calls), and the answer races both providers at once.
    await updateTenantSettings(stack.stores.app.pool, stack.messaging.kv, 'acme', { understanding: { modelMode: 'always' }, generation: { hedgeDelayMs: 0 } });
  });
  after(async () => {
    await stack?.close();
    await telemetry?.shutdown();
  });

  it('traces a turn from the HTTP request through the workflow and its activities to every model call, with nothing secret on a span', async (t) => {
    const question = fresh('What is your return policy?');
    const res = await fetch(`${stack.apiUrl}/v1/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept: 'text/event-stream', 'user-agent': 'traces-test-agent/1.0' },
      body: JSON.stringify({ sessionId: 'traces-session', message: question }),
    });
    assert.equal(res.status, 200);
    const events = await readSse(res);
    const workflowId = events.find((e) => e.event === 'turn')!.data.workflowId as string;
    const done = events.find((e) => e.event === 'done')!.data as TurnResult;
    assert.equal(done.intent, 'knowledge');

    // The workflow's spans leave when it completes (after `done`: persistence), the HTTP span when the response closes.
    const spansOf = () => exporter.getFinishedSpans();
    for (let i = 0; i < 200 && !spansOf().some((s) => s.name === 'RunWorkflow:chatTurn' && s.attributes.workflowId === workflowId); i++) await new Promise((r) => setTimeout(r, 50));
    const start = spansOf().find((s) => s.name === 'StartWorkflow:chatTurn' && s.attributes.temporalWorkflowId === workflowId);
    assert.ok(start, 'the API started the workflow in a span');
    const traceId = start.spanContext().traceId;
    const spans = spansOf().filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parent = (s: ReadableSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const tree = (s: ReadableSpan, depth = 0): string[] => [
      `${'  '.repeat(depth)}${s.name}${s.attributes[A.outcome] ? ` (${String(s.attributes[A.outcome])})` : ''}`,
      ...spans.filter((c) => c.parentSpanId === s.spanContext().spanId).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]).flatMap((c) => tree(c, depth + 1)),
    ];

    // One root: the API's HTTP server span, named by its route.
    const roots = spans.filter((s) => !s.parentSpanId);
    assert.equal(roots.length, 1, `one root span: ${roots.map((s) => s.name).join(', ')}`);
    const http = roots[0]!;
    t.diagnostic(`\n${tree(http).join('\n')}`);
    assert.equal(http.kind, SpanKind.SERVER);
    assert.equal(http.name, 'POST /v1/turns');
    assert.equal(http.attributes['http.route'], '/v1/turns');
    assert.equal(http.attributes['http.status_code'], 200);

    // Every span of this turn, wherever it ran, is in this one trace.
    const ofTurn = spansOf().filter((s) => s.attributes.workflowId === workflowId || s.attributes.temporalWorkflowId === workflowId);
    assert.ok(ofTurn.length > 10);
    assert.deepEqual([...new Set(ofTurn.map((s) => s.spanContext().traceId))], [traceId]);

    // HTTP → StartWorkflow → RunWorkflow → StartActivity → RunActivity.
    assert.equal(parent(start), http);
    const run = spans.find((s) => s.name === 'RunWorkflow:chatTurn');
    assert.ok(run);
    assert.equal(parent(run), start);
    const runs = spans.filter((s) => s.name.startsWith('RunActivity:'));
    const ran = new Set(runs.map((s) => s.name.slice('RunActivity:'.length)));
    for (const step of ['retrieveKnowledge', 'captureSlots', 'detectIntent', 'generateAnswer', 'persistTurn']) assert.ok(ran.has(step), `RunActivity:${step} in ${[...ran].join(', ')}`);
    for (const r of runs) {
      const step = r.name.slice('RunActivity:'.length);
      const scheduled = parent(r);
      assert.equal(scheduled?.name, `StartActivity:${step}`, `${r.name} is a child of its StartActivity span`);
      assert.equal(parent(scheduled!), run, `StartActivity:${step} is a child of RunWorkflow:chatTurn`);
      assert.equal(r.attributes['turnflow.activity.attempt'], 1);
    }

    // The answer's race: sibling model-call spans under RunActivity:generateAnswer, the loser saying it lost.
    const answer = runs.find((s) => s.name === 'RunActivity:generateAnswer')!;
    const raced = spans.filter((s) => parent(s) === answer && s.attributes[A.operation] === 'chat');
    const answerCalls = (done.calls ?? []).filter((c: ModelCall) => c.step === 'generateAnswer');
    assert.equal(raced.length, answerCalls.length, 'a span for each of the answer’s calls in done.calls');
    const bySystem = Object.fromEntries(raced.map((s) => [s.attributes[A.system], s]));
    const won = bySystem.anthropic!;
    const lost = bySystem.openai!;
    assert.ok(won && lost, `both providers raced: ${raced.map((s) => s.attributes[A.system]).join(', ')}`);
    assert.equal(won.kind, SpanKind.CLIENT);
    assert.equal(won.name, `chat ${String(won.attributes[A.requestModel])}`);
    assert.equal(won.attributes[A.outcome], 'ok');
    assert.equal(lost.attributes[A.outcome], 'lost');
    for (const s of [won, lost]) {
      assert.equal(s.attributes[A.attempt], 1);
      assert.equal(s.attributes[A.streaming], true);
      assert.equal(typeof s.attributes[A.requestModel], 'string');
      for (const k of [A.inputTokens, A.outputTokens, A.cacheReadTokens, A.cacheWriteTokens]) assert.equal(typeof s.attributes[k], 'number', `${s.name} ${k}`);
    }
    // The model read the question while the answer was held (speculation): the winner is `speculative-won`.
    const winner = answerCalls.find((c) => c.outcome === 'won' || c.outcome === 'speculative-won')!;
    assert.ok(winner, answerCalls.map((c) => c.outcome).join(', '));
    assert.equal(winner.provider, 'anthropic');
    assert.equal(won.attributes[A.outputTokens], winner.usage.outputTokens, 'the span’s tokens are the call’s');
    assert.equal(won.attributes[A.inputTokens], winner.usage.inputTokens + winner.usage.cacheReadTokens + winner.usage.cacheWriteTokens);
    assert.equal(won.attributes[A.responseModel], 'offline-model');
    assert.ok((won.attributes[A.outputTokens] as number) > 0);

    // The understanding calls (not streamed) under their own activities.
    for (const step of ['captureSlots', 'detectIntent']) {
      const call = spans.find((s) => parent(s)?.name === `RunActivity:${step}` && s.attributes[A.operation] === 'chat');
      assert.ok(call, `a model-call span under RunActivity:${step}`);
      assert.equal(call.attributes[A.streaming], false);
      assert.equal(call.attributes[A.outcome], 'ok');
    }
    // The API's semantic lookup embedded the question: that call is a span under the request.
    assert.ok(spans.some((s) => parent(s) === http && s.attributes[A.operation] === 'embeddings'), 'the API’s embedding call');

    // Nothing secret or personal on any span this process exported: not the question, the answer, the key, the caller.
    const exported = JSON.stringify(spansOf().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })));
    const nonce = question.slice(question.lastIndexOf('['));
    for (const secret of [question, nonce, 'return policy', done.answer.slice(0, 40), KEY, 'traces-test-agent', 'traces-session']) {
      assert.ok(!exported.includes(secret), `a span carries ${JSON.stringify(secret)}`);
    }
    for (const key of ['memo', 'searchAttributes', 'typedSearchAttributes', 'http.user_agent', 'net.peer.ip']) {
      assert.ok(!spansOf().some((s) => key in s.attributes), `no span has ${key}`);
    }
  });
});
