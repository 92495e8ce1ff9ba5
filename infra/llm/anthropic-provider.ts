import Anthropic from '@anthropic-ai/sdk';
import { type Usage, ZERO_USAGE } from '../../workflows/shared/contract.ts';
import {
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

/** Options of the Anthropic provider. */
export interface AnthropicProviderOptions {
  apiKey: string;
  /** E.g. the offline model's `${url}/anthropic`; default: the SDK's (api.anthropic.com or ANTHROPIC_BASE_URL). */
  baseURL?: string;
  /** `fast` for short structured calls (`complete()`), `strong` for answers (`stream()`). */
  models: ModelTiers;
  /** Per-request timeout; default 60 s, the answer activity's own start-to-close timeout. */
  timeoutMs?: number;
  /** Price every call as this model (the offline model: `offline-model`). */
  priceAs?: string;
}

// Mid-stream `event: error` frames carry a type but no HTTP status.
const NON_RETRYABLE_TYPES = new Set(['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'billing_error', 'request_too_large']);

function toProviderError(err: unknown, signal: AbortSignal): Error {
  if (signal.aborted) return new ProviderAbortError('anthropic', { cause: err });
  if (err instanceof ProviderError) return err;
  if (err instanceof Anthropic.APIConnectionError) return new ProviderError(`anthropic: ${err.message}`, 'anthropic', null, true, { cause: err });
  if (err instanceof Anthropic.APIError) {
    const status = typeof err.status === 'number' ? err.status : null;
    const retryable = status !== null ? isRetryableStatus(status) : !NON_RETRYABLE_TYPES.has(err.type ?? '');
    return new ProviderError(`anthropic: ${err.message}`, 'anthropic', status, retryable, { cause: err, retryAfterMs: retryAfterMs(err.headers) });
  }
  // Anything else is the transport failing under us (e.g. undici's "terminated"): worth another attempt.
  return new ProviderError(`anthropic: ${(err as Error)?.message ?? String(err)}`, 'anthropic', null, true, { cause: err });
}

/** The conversation, and the interrupted answer as an assistant prefill to continue (no trailing whitespace: the API refuses it). */
function messagesParam(req: Pick<StreamRequest, 'messages' | 'continueFrom'>) {
  const messages = req.messages.map((m) => ({ role: m.role, content: m.content }));
  const prefill = req.continueFrom?.trimEnd();
  return prefill ? [...messages, { role: 'assistant' as const, content: prefill }] : messages;
}

/** The `system` parameter; the API rejects empty text blocks, so an empty system prompt is left out. */
function systemParam(system: string, cache: boolean, context?: string) {
  // The API rejects empty text blocks, so empty parts are left out; only the stable part is a cache breakpoint.
  const blocks = [
    ...(system ? [{ type: 'text' as const, text: system, ...(cache ? { cache_control: { type: 'ephemeral' as const } } : {}) }] : []),
    ...(context ? [{ type: 'text' as const, text: context }] : []),
  ];
  return blocks.length ? { system: blocks } : {};
}

/** Attaches what a broken or cancelled stream had produced; output the API never reported is estimated from the text. */
function withPartial(err: Error, text: string, usage: Usage, ttftMs: number | null, promptChars: number): Error {
  if (err instanceof ProviderError) {
    // Stopped before message_start: the prompt was sent (and is likely billed) but never counted for us, so it is estimated.
    const inputTokens = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens > 0 ? usage.inputTokens : Math.ceil(promptChars / 4);
    err.partial = { text, usage: { ...usage, inputTokens, outputTokens: Math.max(usage.outputTokens, estimateTokens(text)) }, ttftMs };
  }
  return err;
}

/** Anthropic Messages API, streaming and not; the SDK never retries (Temporal owns retries). */
export function createAnthropicProvider(opts: AnthropicProviderOptions): ChatProvider {
  const client = new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    maxRetries: 0,
    timeout: opts.timeoutMs ?? 60_000,
    // The product traces its calls itself (infra/llm/traced-provider.ts): the SDK's own spans would repeat them and,
    // with ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content in the environment, carry the prompts; and our
    // trace context is not sent to the provider.
    openTelemetry: { traces: false, propagation: false },
  });
  const models: ModelTiers = { ...opts.models };
  return {
    name: 'anthropic',
    models,
    ...(opts.priceAs ? { priceAs: opts.priceAs } : {}),
    async stream(req: StreamRequest): Promise<StreamResult> {
      const started = performance.now();
      const model = req.model ?? models.strong;
      let text = '';
      let ttftMs: number | null = null;
      let reportedModel = model;
      let stopReason: string | null = null;
      let finished = false;
      const usage: Usage = { ...ZERO_USAGE };
      const promptChars = req.system.length + (req.systemContext?.length ?? 0) + req.messages.reduce((n, m) => n + m.content.length, 0);
      try {
        const stream = await client.messages.create(
          {
            model,
            max_tokens: req.maxTokens,
            ...systemParam(req.system, req.cacheSystemPrompt !== false, req.systemContext),
            messages: messagesParam(req),
            stream: true,
          },
          { signal: req.signal },
        );
        for await (const event of stream) {
          switch (event.type) {
            case 'message_start': {
              reportedModel = event.message.model || model;
              const u = event.message.usage;
              usage.inputTokens = u.input_tokens ?? 0;
              usage.outputTokens = u.output_tokens ?? 0;
              usage.cacheReadTokens = u.cache_read_input_tokens ?? 0;
              usage.cacheWriteTokens = u.cache_creation_input_tokens ?? 0;
              break;
            }
            case 'content_block_delta':
              if (event.delta.type === 'text_delta' && event.delta.text) {
                ttftMs ??= performance.now() - started;
                text += event.delta.text;
                req.onToken(event.delta.text);
              }
              break;
            case 'message_delta': {
              stopReason = event.delta.stop_reason ?? stopReason;
              // Counts here are cumulative; the prompt-side ones may be absent (null) and then message_start's stand.
              const u = event.usage;
              usage.outputTokens = u.output_tokens ?? usage.outputTokens;
              if (u.input_tokens != null) usage.inputTokens = u.input_tokens;
              if (u.cache_read_input_tokens != null) usage.cacheReadTokens = u.cache_read_input_tokens;
              if (u.cache_creation_input_tokens != null) usage.cacheWriteTokens = u.cache_creation_input_tokens;
              break;
            }
            case 'message_stop':
              finished = true;
              break;
          }
        }
      } catch (err) {
        throw withPartial(toProviderError(err, req.signal), text, usage, ttftMs, promptChars);
      }
      // The SDK ends the iteration quietly when the signal aborts mid-stream, so check for it here.
      if (req.signal.aborted) throw withPartial(new ProviderAbortError('anthropic'), text, usage, ttftMs, promptChars);
      if (!finished) throw withPartial(new ProviderError('anthropic: stream ended before message_stop', 'anthropic', null, true), text, usage, ttftMs, promptChars);
      return { text, usage, model: reportedModel, provider: 'anthropic', ttftMs, totalMs: performance.now() - started, stopReason };
    },

    async complete(req: CompleteRequest): Promise<CompleteResult> {
      const started = performance.now();
      const model = req.model ?? models.fast;
      try {
        // No JSON switch here: the caller's system prompt asks for JSON. Short calls repeat the same
        // system prompt turn after turn, so it is marked cacheable (below 1024 tokens it simply is not cached).
        const message = await client.messages.create(
          {
            model,
            max_tokens: req.maxTokens,
            ...systemParam(req.system, true, req.systemContext),
            messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
          },
          { signal: req.signal },
        );
        const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
        const u = message.usage;
        const usage: Usage = {
          inputTokens: u.input_tokens ?? 0,
          outputTokens: u.output_tokens ?? 0,
          cacheReadTokens: u.cache_read_input_tokens ?? 0,
          cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
        };
        return { text, usage, model: message.model || model, provider: 'anthropic', totalMs: performance.now() - started };
      } catch (err) {
        throw toProviderError(err, req.signal);
      }
    },
  };
}
