import type { HistoryMessage, Usage } from '../../workflows/shared/contract.ts';

/** The answer providers the worker can call. */
export type ProviderName = 'anthropic' | 'openai';

/** One streamed completion. */
export interface StreamRequest {
  system: string;
  /**
   * Per-turn system text after the stable prompt (who the user is; later, retrieved context). Never
   * marked cacheable, so it does not break the cached prefix.
   */
  systemContext?: string;
  messages: HistoryMessage[];
  maxTokens: number;
  /** Overrides the provider's default for answers, `models.strong`. */
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

/** One non-streaming completion: short structured calls such as slot capture and intent detection. */
export interface CompleteRequest {
  system: string;
  messages: HistoryMessage[];
  maxTokens: number;
  /** Overrides the provider's default for short calls, `models.fast`. */
  model?: string;
  /** Aborting it cancels the HTTP request; the call then rejects with a `ProviderAbortError`. */
  signal: AbortSignal;
  /** Sampling temperature; the provider's default when absent. */
  temperature?: number;
  /**
   * Ask for a JSON object (OpenAI `response_format: json_object`, which also requires the word JSON in the
   * prompt). Anthropic has no such switch: the system prompt carries the JSON instruction.
   */
  json?: boolean;
}

/** What a finished non-streaming completion produced. */
export interface CompleteResult {
  text: string;
  usage: Usage;
  /** The model the provider reports having used, not necessarily the one requested. */
  model: string;
  provider: ProviderName;
  totalMs: number;
}

/** The two model tiers of a provider: `fast` for short structured calls, `strong` for answers. */
export interface ModelTiers {
  fast: string;
  strong: string;
}

/** A chat model behind one interface, so the workflow can fall back from one provider to another. */
export interface ChatProvider {
  readonly name: ProviderName;
  readonly models: ModelTiers;
  stream(req: StreamRequest): Promise<StreamResult>;
  complete(req: CompleteRequest): Promise<CompleteResult>;
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
