import OpenAI from 'openai';
import { type Usage, ZERO_USAGE } from '../../workflows/shared/contract.ts';
import {
  CONTINUATION_INSTRUCTION,
  estimateTokens,
  isRetryableStatus,
  retryAfterMs,
  ProviderAbortError,
  ProviderError,
  type ChatProvider,
  type CompleteRequest,
  type CompleteResult,
  type ModelTiers,
  type StreamRequest,
  type StreamResult,
} from './provider.ts';

/** Options of the OpenAI provider (also any OpenAI-compatible server). */
export interface OpenAIProviderOptions {
  apiKey: string;
  /** E.g. the offline model's `${url}/openai/v1`; default: the SDK's (api.openai.com or OPENAI_BASE_URL). */
  baseURL?: string;
  /** `fast` for short structured calls (`complete()`), `strong` for answers (`stream()`). */
  models: ModelTiers;
  /** Per-request timeout; default 60 s, the answer activity's own start-to-close timeout. */
  timeoutMs?: number;
  /** Price every call as this model (the offline model: `offline-model`). */
  priceAs?: string;
  /**
   * Name of the output-limit parameter. OpenAI's newer models accept only `max_completion_tokens`;
   * some older OpenAI-compatible servers know only `max_tokens`. Default `max_completion_tokens`.
   */
  maxTokensParam?: 'max_completion_tokens' | 'max_tokens';
}

function toProviderError(err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return new ProviderAbortError('openai', { cause: err });
  if (err instanceof ProviderError) return err;
  if (err instanceof OpenAI.APIConnectionError) return new ProviderError(`openai: ${err.message}`, 'openai', null, true, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const status = typeof err.status === 'number' ? err.status : null;
    // No status: an error object inside the stream; OpenAI sends those for server-side failures.
    const retryable = status !== null ? isRetryableStatus(status) : err.type !== 'invalid_request_error';
    return new ProviderError(`openai: ${err.message}`, 'openai', status, retryable, { cause: err, retryAfterMs: retryAfterMs(err.headers) });
  }
  // Anything else is the transport failing under us (e.g. undici's "terminated"): worth another attempt.
  return new ProviderError(`openai: ${(err as Error)?.message ?? String(err)}`, 'openai', null, true, { cause: err });
}

function chatMessages(system: string, messages: CompleteRequest['messages'], context?: string, continueFrom?: string) {
  // The stable prompt first, so OpenAI's automatic prefix caching covers it; the per-turn context after it.
  // An interrupted answer to carry on: Chat Completions has no prefill, so the partial answer is followed by an instruction.
  return [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    ...(context ? [{ role: 'system' as const, content: context }] : []),
    ...messages.map((m) => ({ role: m.role, content: m.content })),
    ...(continueFrom ? [{ role: 'assistant' as const, content: continueFrom }, { role: 'user' as const, content: CONTINUATION_INSTRUCTION }] : []),
  ];
}

/** Attaches what a broken or cancelled stream had produced; output the API never reported is estimated from the text. */
function withPartial(err: Error, text: string, usage: Usage, ttftMs: number | null, promptChars: number): Error {
  if (err instanceof ProviderError) {
    // Usage comes only in the last chunk: a cut-off stream never reports its prompt tokens, so they are estimated too.
    err.partial = {
      text,
      usage: { ...usage, inputTokens: usage.inputTokens || Math.ceil(promptChars / 4), outputTokens: Math.max(usage.outputTokens, estimateTokens(text)) },
      ttftMs,
    };
  }
  return err;
}

/** Our usage from OpenAI's: `prompt_tokens` includes the cached ones, which we count apart. */
function usageOf(u: OpenAI.CompletionUsage | null | undefined): Usage {
  if (!u) return { ...ZERO_USAGE };
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return { inputTokens: u.prompt_tokens - cached, outputTokens: u.completion_tokens, cacheReadTokens: cached, cacheWriteTokens: 0 };
}

/** OpenAI Chat Completions, streaming and not; the SDK never retries (Temporal owns retries). */
export function createOpenAIProvider(opts: OpenAIProviderOptions): ChatProvider {
  const client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: opts.timeoutMs ?? 60_000 });
  const limitParam = opts.maxTokensParam ?? 'max_completion_tokens';
  const models: ModelTiers = { ...opts.models };
  return {
    name: 'openai',
    models,
    ...(opts.priceAs ? { priceAs: opts.priceAs } : {}),
    // OpenAI caches long prompt prefixes automatically, so `cacheSystemPrompt` needs no request change.
    async stream(req: StreamRequest): Promise<StreamResult> {
      const started = performance.now();
      const model = req.model ?? models.strong;
      let text = '';
      let ttftMs: number | null = null;
      let reportedModel = model;
      let stopReason: string | null = null;
      const usage: Usage = { ...ZERO_USAGE };
      const messages = chatMessages(req.system, req.messages, req.systemContext, req.continueFrom);
      const promptChars = messages.reduce((n, m) => n + m.content.length, 0);
      try {
        const stream = await client.chat.completions.create(
          {
            model,
            messages,
            stream: true,
            stream_options: { include_usage: true },
            [limitParam]: req.maxTokens,
          },
          { signal: req.signal },
        );
        for await (const chunk of stream) {
          if (chunk.model) reportedModel = chunk.model;
          const choice = chunk.choices[0];
          const delta = choice?.delta?.content;
          if (delta) {
            ttftMs ??= performance.now() - started;
            text += delta;
            req.onToken(delta);
          }
          if (choice?.finish_reason) stopReason = choice.finish_reason;
          if (chunk.usage) Object.assign(usage, usageOf(chunk.usage));
        }
      } catch (err) {
        throw withPartial(toProviderError(err, req.signal), text, usage, ttftMs, promptChars);
      }
      // The SDK ends the iteration quietly when the signal aborts mid-stream, so check for it here.
      if (req.signal.aborted) throw withPartial(new ProviderAbortError('openai'), text, usage, ttftMs, promptChars);
      if (stopReason === null) throw withPartial(new ProviderError('openai: stream ended without a finish_reason', 'openai', null, true), text, usage, ttftMs, promptChars);
      return { text, usage, model: reportedModel, provider: 'openai', ttftMs, totalMs: performance.now() - started, stopReason };
    },

    async complete(req: CompleteRequest): Promise<CompleteResult> {
      const started = performance.now();
      const model = req.model ?? models.fast;
      try {
        const completion = await client.chat.completions.create(
          {
            model,
            messages: chatMessages(req.system, req.messages, req.systemContext),
            [limitParam]: req.maxTokens,
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            ...(req.json ? { response_format: { type: 'json_object' as const } } : {}),
          },
          { signal: req.signal },
        );
        const text = completion.choices[0]?.message.content ?? '';
        return { text, usage: usageOf(completion.usage), model: completion.model || model, provider: 'openai', totalMs: performance.now() - started };
      } catch (err) {
        throw toProviderError(err, req.signal);
      }
    },
  };
}
