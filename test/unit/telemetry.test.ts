// Tracing (infra/telemetry.ts, infra/llm/traced-provider.ts) without any service: off unless an OTLP endpoint is
// set, what a model call's span says of the call (the race's losers and stalls, errors), and what never leaves.
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { raceProviders } from '../../activities/generate-answer/race.ts';
import { loadConfig } from '../../infra/config.ts';
import { createLogger } from '../../infra/logger.ts';
import { ProviderAbortError, ProviderError, type ChatProvider, type ProviderName, type StreamRequest, type StreamResult } from '../../infra/llm/provider.ts';
import { MODEL_CALL_ATTRIBUTES as A, tracedProvider } from '../../infra/llm/traced-provider.ts';
import { scrubAttributes, startTelemetry, TELEMETRY_OFF, tracesUrl } from '../../infra/telemetry.ts';

const log = createLogger('silent', 'test');

describe('tracing is off without an endpoint', () => {
  it('registers nothing, hooks nothing and wraps nothing', async () => {
    const config = loadConfig({});
    assert.equal(config.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
    const telemetry = await startTelemetry({ config, service: 'turnflow', log });
    assert.equal(telemetry, TELEMETRY_OFF);
    assert.equal(telemetry.clientInterceptors, undefined);
    assert.equal(telemetry.worker, undefined);
    const providers = {};
    assert.equal(telemetry.traceProviders(providers), providers);
    // No tracer provider registered: every span is a no-op that records nothing.
    const span = trace.getTracer('probe').startSpan('probe');
    assert.equal(span.isRecording(), false);
    span.end();
    // HTTP is not instrumented (the instrumentation wraps http.Server's emit when it is on).
    assert.equal('__wrapped' in http.Server.prototype.emit, false);
  });

  it('is on with OTEL_EXPORTER_OTLP_ENDPOINT (or the traces endpoint), and OTEL_SDK_DISABLED turns it off', () => {
    const url = (env: Record<string, string>) => tracesUrl(loadConfig(env));
    assert.equal(url({}), undefined);
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), 'http://127.0.0.1:4318/v1/traces');
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' }), 'http://b:4318/custom');
    assert.equal(url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('what leaves on a span', () => {
  it('never the caller’s address or user agent, nor a URL’s query (a chart URL’s signature)', () => {
    const attributes = {
      'http.url': 'http://127.0.0.1:3000/v1/charts/abc.svg?exp=1&sig=SECRET',
      'http.target': '/v1/charts/abc.svg?exp=1&sig=SECRET',
      'url.query': 'exp=1&sig=SECRET',
      'http.user_agent': 'Mozilla/5.0',
      'net.peer.ip': '203.0.113.7',
      'http.client_ip': '203.0.113.7',
      'http.route': '/v1/charts/:file',
    };
    scrubAttributes(attributes);
    assert.deepEqual(attributes, { 'http.url': 'http://127.0.0.1:3000/v1/charts/abc.svg', 'http.target': '/v1/charts/abc.svg', 'http.route': '/v1/charts/:file' });
  });
});

/** A provider that streams a script and honours its abort signal as the SDKs do. */
function scripted(name: ProviderName, script: { ttftMs: number; tokens?: string[]; stallAfter?: number; fail?: number }): ChatProvider {
  return {
    name,
    models: { fast: `${name}-fast`, strong: `${name}-strong` },
    complete: async () => {
      throw new Error('not scripted');
    },
    async stream(req: StreamRequest): Promise<StreamResult> {
      const usage = { inputTokens: 120, outputTokens: 0, cacheReadTokens: 1024, cacheWriteTokens: 0 };
      let text = '';
      const wait = async (ms: number) => {
        try {
          await sleep(ms, undefined, { signal: req.signal });
        } catch {
          const err = new ProviderAbortError(name);
          err.partial = { text, usage: { ...usage, outputTokens: text.length }, ttftMs: null };
          throw err;
        }
      };
      await wait(script.ttftMs);
      if (script.fail) throw new ProviderError(`${name}: ${script.fail} {"error":{"message":"the prompt was: SECRET PROMPT"}}`, name, script.fail, true);
      for (const [i, t] of (script.tokens ?? ['Hello', ' there']).entries()) {
        if (i === script.stallAfter) await wait(10_000);
        text += t;
        req.onToken(t);
        await wait(1);
      }
      return { text, usage: { ...usage, outputTokens: text.length }, model: `${name}-reported`, provider: name, ttftMs: script.ttftMs, totalMs: 0, stopReason: 'end_turn' };
    },
  };
}

/** Runs a race of traced providers and returns the model-call spans by provider. */
async function tracedRace(providers: ChatProvider[], opts: { hedgeDelayMs?: number; stallTimeoutMs?: number } = {}) {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
  const result = await raceProviders({
    candidates: providers.map((p) => ({ name: p.name, provider: tracedProvider(p, tracer), model: p.models.strong })),
    hedgeDelayMs: opts.hedgeDelayMs ?? 0,
    stallTimeoutMs: opts.stallTimeoutMs ?? 2000,
    request: { system: 'SECRET PROMPT', messages: [{ role: 'user', content: 'SECRET QUESTION' }], maxTokens: 200 },
    signal: new AbortController().signal,
    onToken: () => {},
  }).catch((err: unknown) => err);
  const spans = exporter.getFinishedSpans();
  return { result, spans, of: (name: ProviderName) => spans.filter((s) => s.attributes[A.system] === name) };
}

describe('model-call spans', () => {
  it('a race’s calls: the winner ok with its tokens, the loser stopped as lost', async () => {
    const { spans, of } = await tracedRace([scripted('anthropic', { ttftMs: 5 }), scripted('openai', { ttftMs: 300 })]);
    assert.equal(spans.length, 2);
    const [won] = of('anthropic');
    const [lost] = of('openai');
    assert.equal(won!.name, 'chat anthropic-strong');
    assert.deepEqual(
      { ...won!.attributes },
      {
        [A.system]: 'anthropic',
        [A.operation]: 'chat',
        [A.requestModel]: 'anthropic-strong',
        [A.maxTokens]: 200,
        [A.streaming]: true,
        [A.outcome]: 'ok',
        [A.responseModel]: 'anthropic-reported',
        [A.finishReasons]: ['end_turn'],
        [A.ttftMs]: 5,
        [A.inputTokens]: 120 + 1024,
        [A.uncachedInputTokens]: 120,
        [A.outputTokens]: 'Hello there'.length,
        [A.cacheReadTokens]: 1024,
        [A.cacheWriteTokens]: 0,
      },
    );
    assert.equal(lost!.attributes[A.outcome], 'lost');
    assert.equal(lost!.attributes[A.inputTokens], 120 + 1024, 'what the loser had used is on its span');
    assert.notEqual(lost!.status.code, SpanStatusCode.ERROR, 'losing a race is not an error');
  });

  it('a winner that goes quiet is stalled, and the call that continues the answer says so', async () => {
    const { spans, of } = await tracedRace([scripted('anthropic', { ttftMs: 1, tokens: ['One', ' two', ' three'], stallAfter: 1 }), scripted('openai', { ttftMs: 20 })], {
      hedgeDelayMs: 1000,
      stallTimeoutMs: 100,
    });
    assert.equal(spans.length, 2);
    assert.equal(of('anthropic')[0]!.attributes[A.outcome], 'stalled');
    const continued = of('openai')[0]!;
    assert.equal(continued.attributes[A.continuation], true);
    assert.equal(continued.attributes[A.outcome], 'ok');
  });

  it('an error says its status, never the provider’s message (it can quote the request)', async () => {
    const { result, spans } = await tracedRace([scripted('anthropic', { ttftMs: 1, fail: 529 })]);
    assert.ok(result instanceof Error);
    const [failed] = spans;
    assert.equal(failed!.attributes[A.outcome], 'error');
    assert.equal(failed!.attributes[A.status], 529);
    assert.equal(failed!.attributes[A.errorType], '529');
    assert.equal(failed!.status.code, SpanStatusCode.ERROR);
    assert.doesNotMatch(JSON.stringify({ status: failed!.status, events: failed!.events, attributes: failed!.attributes }), /SECRET/);
  });
});
