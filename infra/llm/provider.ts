import type { HistoryMessage, Usage } from '../../workflows/shared/contract.ts';

/** The answer providers the worker can call. */
export type ProviderName = 'anthropic' | 'openai';

/** One streamed completion. */
export interface StreamRequest {
  system: string;
  messages: HistoryMessage[];
  maxTokens: number;
  /** Overrides the provider's default model. */
  model?: string;
  /** Aborting it cancels the HTTP request; the call then rejects with a `ProviderAbortError`. */
  signal: AbortSignal;
  /** Called once per non-empty text delta, in order. */
  onToken: (text: string) => void;
  /** Mark the system prompt cacheable (Anthropic `cache_control`; OpenAI caches on its own). Default true. */
  cacheSystemPrompt?: boolean;
}

/** What a finished stream produced. */
export interface StreamResult {
  text: string;
  usage: Usage;
  /** The model the provider reports having used (e.g. `offline-model`), not necessarily the one requested. */
  model: string;
  provider: ProviderName;
  /** From calling `stream()` to the first non-empty text delta; null when no text came. */
  ttftMs: number | null;
  totalMs: number;
  /** Provider-native: Anthropic `end_turn`/`max_tokens`, OpenAI `stop`/`length`. */
  stopReason: string | null;
}

/** A chat model behind one interface, so the workflow can fall back from one provider to another. */
export interface ChatProvider {
  readonly name: ProviderName;
  readonly model: string;
  stream(req: StreamRequest): Promise<StreamResult>;
}

/** Error thrown by providers; `retryable` tells Temporal's retry policy whether to try again (429/5xx/network = true, 400/401/403/404 = false). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly provider: ProviderName,
    readonly status: number | null,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/**
 * The request's signal was aborted. Named `AbortError` so Temporal's activity worker reports a cancelled
 * activity as cancelled (it checks `name === 'AbortError'`); still a non-retryable `ProviderError` for
 * code that only knows that class.
 */
export class ProviderAbortError extends ProviderError {
  constructor(provider: ProviderName, options?: { cause?: unknown }) {
    super(`${provider} request cancelled`, provider, null, false, options);
    this.name = 'AbortError';
  }
}

/** Whether an HTTP status is worth retrying: timeouts, conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
