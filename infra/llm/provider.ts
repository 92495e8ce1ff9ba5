import type { HistoryMessage, Usage } from '../../workflows/shared/contract.ts';

/**
 * How an interrupted answer is handed to another model to carry on (a stall or a broken stream, see the
 * answer's race): Anthropic continues an assistant prefill natively; OpenAI-style APIs get the partial
 * answer as an assistant message followed by this user instruction.
 */
export const CONTINUATION_INSTRUCTION =
  'Your previous reply was cut off. Continue it exactly where it stopped, without repeating any of it and without any preamble.';

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
  /**
   * The answer so far, written by another model that stalled: continue it instead of starting over
   * (Anthropic: assistant prefill; OpenAI: the partial answer and CONTINUATION_INSTRUCTION). Only the
   * continuation streams through `onToken`, and the result's `text` is the continuation alone.
   */
  continueFrom?: string;
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
  /** Per-request system text after the stable, cacheable `system` (today's date, slots, examples). */
  systemContext?: string;
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
  /** The model to price every call with, whatever was asked (the offline model: `offline-model`, which costs nothing). */
  readonly priceAs?: string;
  stream(req: StreamRequest): Promise<StreamResult>;
  complete(req: CompleteRequest): Promise<CompleteResult>;
}

/** What a stream had produced when it failed or was cancelled: its text, and the tokens it had used (billed all the same). */
export interface PartialStream {
  text: string;
  usage: Usage;
  ttftMs: number | null;
}

/** Error thrown by providers; `retryable` tells Temporal's retry policy whether to try again (429/5xx/network = true, 400/401/403/404 = false). */
export class ProviderError extends Error {
  /** What the stream had produced before it failed (streams only). */
  partial?: PartialStream;
  constructor(
    message: string,
    readonly provider: ProviderName,
    readonly status: number | null,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'ProviderError';
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
  /** The provider's `Retry-After` (or `retry-after-ms`), when it sent one: how long to leave it alone. */
  retryAfterMs?: number;
}

/** Milliseconds of a `retry-after-ms` or `Retry-After` header (seconds or an HTTP date); undefined when absent or unreadable. Capped at 10 minutes. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const cap = (ms: number) => Math.min(Math.max(0, Math.round(ms)), 600_000);
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms)) return cap(ms);
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return cap(seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : cap(at - now);
}

/** Rough token count of text the provider did not count for us (a cancelled stream's output): 4 characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
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

/** Why the product stopped a call on purpose: the reason it aborts the call's signal with (see `stoppedAs`). */
export type StopOutcome = 'lost' | 'stalled' | 'timeout' | 'cancelled';

/**
 * An abort reason that says why a call is stopped (the race aborts a loser with `stoppedAs('lost')`): the call's
 * trace span records it as its outcome. It is an `AbortError`, like the default reason, for code that checks the name.
 */
export function stoppedAs(outcome: StopOutcome): Error {
  return Object.assign(new DOMException(`model call stopped: ${outcome}`, 'AbortError'), { stopOutcome: outcome });
}

/** The outcome of a call whose signal was aborted: the one given with `stoppedAs`, `timeout` for a timeout signal, else `cancelled`. */
export function abortOutcome(signal: AbortSignal | undefined): StopOutcome {
  const reason = signal?.reason as { stopOutcome?: StopOutcome; name?: string } | undefined;
  if (reason?.stopOutcome) return reason.stopOutcome;
  return reason?.name === 'TimeoutError' ? 'timeout' : 'cancelled';
}

/** Whether an HTTP status is worth retrying: timeouts, conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
