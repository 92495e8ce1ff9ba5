// A span for every model call: the one place calls to providers are made is the `ChatProvider` (and the
// `Embedder`), so wrapping it traces the answer's race, capture, detect, the SQL writer and retrieval alike.
// The span is a child of whatever span is active when the call starts (the activity's, from Temporal's
// interceptor), so a race's calls are siblings under `RunActivity:generateAnswer`.
//
// Attributes follow the OpenTelemetry GenAI semantic conventions where they have a name (gen_ai.*), and
// turnflow.* for the rest. Never on a span: prompts, messages, answers, error bodies, keys.
import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Usage } from '../../workflows/shared/contract.ts';
import type { Embedder } from './embeddings.ts';
import { abortOutcome, ProviderError, type ChatProvider, type CompleteRequest, type StreamRequest } from './provider.ts';

/** Attribute names (GenAI semantic conventions, and ours for what they do not name). */
export const MODEL_CALL_ATTRIBUTES = {
  system: 'gen_ai.system',
  operation: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  /** Every prompt token, cached ones included (the conventions' meaning). */
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheWriteTokens: 'gen_ai.usage.cache_creation.input_tokens',
  errorType: 'error.type',
  /** Prompt tokens neither read from nor written to the cache: `done.calls[].usage.inputTokens`. */
  uncachedInputTokens: 'turnflow.usage.uncached_input_tokens',
  /** ok, error, or why the product stopped it: lost (a race another provider won), stalled, timeout, cancelled. */
  outcome: 'turnflow.model_call.outcome',
  /** HTTP status of a failed call, when the provider answered one. */
  status: 'turnflow.model_call.status',
  /** The Temporal activity attempt that made the call (1 = first). */
  attempt: 'turnflow.model_call.attempt',
  streaming: 'turnflow.model_call.streaming',
  /** The call continues an answer another call began (a stall failover, or a retried attempt). */
  continuation: 'turnflow.model_call.continuation',
  /** Streams: from the call's start to its first content token. */
  ttftMs: 'turnflow.model_call.ttft_ms',
  /** Embeddings: how many texts were embedded. */
  inputs: 'turnflow.embeddings.inputs',
} as const;

const ATTEMPT = createContextKey('turnflow.activity.attempt');

/** The context with the running activity's attempt: model-call spans started in it carry it (set by the worker's interceptor). */
export function withActivityAttempt(ctx: Context, attempt: number): Context {
  return ctx.setValue(ATTEMPT, attempt);
}

function tokenAttributes(usage: Usage): Attributes {
  const a = MODEL_CALL_ATTRIBUTES;
  return {
    [a.inputTokens]: usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    [a.uncachedInputTokens]: usage.inputTokens,
    [a.outputTokens]: usage.outputTokens,
    [a.cacheReadTokens]: usage.cacheReadTokens,
    [a.cacheWriteTokens]: usage.cacheWriteTokens,
  };
}

/** Starts a call's span under the active context, with what is known before the call. */
function startCall(tracer: Tracer, operation: string, system: string, model: string, attributes: Attributes): Span {
  const attempt = context.active().getValue(ATTEMPT);
  const a = MODEL_CALL_ATTRIBUTES;
  return tracer.startSpan(`${operation} ${model}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      [a.system]: system,
      [a.operation]: operation,
      [a.requestModel]: model,
      ...(typeof attempt === 'number' ? { [a.attempt]: attempt } : {}),
      ...attributes,
    },
  });
}

/** Runs the provider's own work (the SDK's request) under the call's span. */
function within<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Ends a failed call's span: stopped on purpose (its signal's reason says why), or an error. Only the status
 * code and the error's class are recorded, never its message (a provider's error body can quote the request).
 */
function endFailed(span: Span, err: unknown, signal: AbortSignal | undefined, usage?: Usage): void {
  const a = MODEL_CALL_ATTRIBUTES;
  if (usage) span.setAttributes(tokenAttributes(usage));
  if (signal?.aborted) {
    span.setAttribute(a.outcome, abortOutcome(signal));
  } else {
    const status = err instanceof ProviderError ? err.status : null;
    span.setAttributes({ [a.outcome]: 'error', [a.errorType]: status !== null ? String(status) : ((err as Error)?.name ?? 'Error') });
    if (status !== null) span.setAttribute(a.status, status);
    span.setStatus({ code: SpanStatusCode.ERROR, message: status !== null ? `answered ${status}` : 'no answer' });
  }
  span.end();
}

/** The provider with a span around each call (`stream`, `complete`). */
export function tracedProvider(provider: ChatProvider, tracer: Tracer): ChatProvider {
  const a = MODEL_CALL_ATTRIBUTES;
  const requestAttributes = (req: StreamRequest | CompleteRequest, streaming: boolean): Attributes => ({
    [a.maxTokens]: req.maxTokens,
    [a.streaming]: streaming,
    ...('temperature' in req && req.temperature !== undefined ? { [a.temperature]: req.temperature } : {}),
    ...('continueFrom' in req && req.continueFrom !== undefined ? { [a.continuation]: true } : {}),
  });
  return {
    name: provider.name,
    models: provider.models,
    ...(provider.priceAs ? { priceAs: provider.priceAs } : {}),
    async stream(req) {
      const span = startCall(tracer, 'chat', provider.name, req.model ?? provider.models.strong, requestAttributes(req, true));
      try {
        const r = await within(span, () => provider.stream(req));
        span.setAttributes({
          ...tokenAttributes(r.usage),
          [a.outcome]: 'ok',
          [a.responseModel]: r.model,
          ...(r.stopReason ? { [a.finishReasons]: [r.stopReason] } : {}),
          ...(r.ttftMs !== null ? { [a.ttftMs]: Math.round(r.ttftMs) } : {}),
        });
        span.end();
        return r;
      } catch (err) {
        const partial = err instanceof ProviderError ? err.partial : undefined;
        if (partial?.ttftMs != null) span.setAttribute(a.ttftMs, Math.round(partial.ttftMs));
        endFailed(span, err, req.signal, partial?.usage);
        throw err;
      }
    },
    async complete(req) {
      const span = startCall(tracer, 'chat', provider.name, req.model ?? provider.models.fast, requestAttributes(req, false));
      try {
        const r = await within(span, () => provider.complete(req));
        span.setAttributes({ ...tokenAttributes(r.usage), [a.outcome]: 'ok', [a.responseModel]: r.model });
        span.end();
        return r;
      } catch (err) {
        endFailed(span, err, req.signal);
        throw err;
      }
    },
  };
}

/** The embedder with a span around each call to its provider (the texts are never recorded, only how many); an in-process embedder is left as is. */
export function tracedEmbedder(embedder: Embedder, tracer: Tracer): Embedder {
  const a = MODEL_CALL_ATTRIBUTES;
  const system = embedder.provider;
  if (!system) return embedder;
  return {
    provider: system,
    model: embedder.model,
    dimensions: embedder.dimensions,
    async embed(texts, signal) {
      const span = startCall(tracer, 'embeddings', system, embedder.model, { [a.inputs]: texts.length });
      try {
        const vectors = await within(span, () => embedder.embed(texts, signal));
        span.setAttribute(a.outcome, 'ok');
        span.end();
        return vectors;
      } catch (err) {
        endFailed(span, err, signal);
        throw err;
      }
    },
  };
}
