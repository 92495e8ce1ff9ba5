// The offline model: a local HTTP server speaking the Anthropic Messages and OpenAI Chat Completions
// wire formats, so the real SDKs run unchanged when no provider key is configured. Its answers come from
// a deterministic rule engine (rules.ts), not an LLM; every response says so (`model: offline-model`,
// header `x-offline-model: true`). It also serves OpenAI's embeddings endpoint from a hashing embedder
// (embedder.ts), likewise no model. Latency, stalls and errors are imitated per provider from a seeded
// PRNG, so load tests and fault-injection tests are reproducible.
import { createHash, type Hash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { embedText, LOCAL_EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL } from '../../llm/local-embedder.ts';
import { answerFor, type ProductRules, type RuleRequest } from './rules.ts';
import { CONTINUATION_INSTRUCTION } from '../../llm/provider.ts';
import { mulberry32 } from '../../prng.ts';
import { OFFLINE_MODEL_NAME } from '../../llm/pricing.ts';

/** The two wire formats the offline model speaks. */
export type OfflineProvider = 'anthropic' | 'openai';

/**
 * Latency and fault behaviour of one provider's endpoint. A request's TTFT is
 * `ttftMs · exp(ttftSigma·N(0,1))`, times `slowFactor` with probability `slowRate`, plus 0..jitterMs.
 */
export interface ProviderProfile {
  /** Median delay before the first token (and the base of a non-streaming response's duration). */
  ttftMs: number;
  /** σ of the lognormal TTFT around the median `ttftMs`; 0 = always `ttftMs`. */
  ttftSigma: number;
  /** 0..1 probability the TTFT (after the lognormal draw) is multiplied by `slowFactor`: a queueing tail. */
  slowRate: number;
  /** ≥ 1; see `slowRate`. */
  slowFactor: number;
  /** Median streaming pace after the first token; 0 or Infinity = as fast as possible. */
  tokensPerSec: number;
  /** σ of the lognormal per-request pace around the median `tokensPerSec`; 0 = always `tokensPerSec`. */
  tpsSigma: number;
  /**
   * When set, a stream's status, headers and first frames (Anthropic message_start, content_block_start,
   * ping; OpenAI the `role: assistant` chunk) leave after this many ms (capped at the TTFT), and the content
   * at the TTFT. null (default) = all of them together with the first content token.
   */
  headersMs: number | null;
  /** 0..1 probability a request fails with `errorStatus` (before any token). */
  errorRate: number;
  /** E.g. 529 (Anthropic overloaded), 503, 500, 429. */
  errorStatus: number;
  /** When set, injected errors carry `retry-after: <seconds>`; null (default) = no such header. */
  retryAfterSec: number | null;
  /** 0..1 probability a stream stalls for `stallMs` after `stallAfterTokens` content pieces (then continues). */
  stallRate: number;
  stallMs: number;
  /** Content pieces written before a stall; default 1. */
  stallAfterTokens: number;
  /** Uniform extra 0..jitterMs added to the TTFT, drawn from the seeded PRNG. */
  jitterMs: number;
  /**
   * Per model asked for: its TTFT multiplied by `ttftFactor` and its pace by `tpsFactor` (a strong tier
   * slower than the fast one, as with the real models). Models not listed run at the profile's pace.
   */
  models?: Record<string, { ttftFactor?: number; tpsFactor?: number }>;
}

/** The fields added after the first profiles: no tails, no early headers, no retry-after, stalls after the first piece. */
const TAIL_DEFAULTS = {
  ttftSigma: 0,
  slowRate: 0,
  slowFactor: 1,
  tpsSigma: 0,
  headersMs: null,
  retryAfterSec: null,
  stallAfterTokens: 1,
} as const satisfies Partial<ProviderProfile>;

/** Demo latency close to what the hosted APIs feel like; no faults. */
export const DEFAULT_PROFILES: Record<OfflineProvider, ProviderProfile> = {
  anthropic: { ...TAIL_DEFAULTS, ttftMs: 350, tokensPerSec: 90, errorRate: 0, errorStatus: 529, stallRate: 0, stallMs: 0, jitterMs: 100 },
  openai: { ...TAIL_DEFAULTS, ttftMs: 300, tokensPerSec: 80, errorRate: 0, errorStatus: 503, stallRate: 0, stallMs: 0, jitterMs: 100 },
};

/** No latency at all: what remains of a turn's time is pure orchestration cost. */
export const ZERO_LATENCY_PROFILE: ProviderProfile = {
  ...TAIL_DEFAULTS,
  ttftMs: 0,
  tokensPerSec: 0,
  errorRate: 0,
  errorStatus: 500,
  stallRate: 0,
  stallMs: 0,
  jitterMs: 0,
};

/** Options of `startOfflineModel`. */
export interface OfflineModelOptions {
  /** The product's understanding rules and prompt readers it answers with (workers/offline-rules.ts). */
  product: ProductRules;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Overrides of DEFAULT_PROFILES, per provider. */
  profiles?: Partial<Record<OfflineProvider, Partial<ProviderProfile>>>;
  /** Seed of the PRNG behind errors, stalls, jitter and the latency tails; default 1. */
  seed?: number;
  logger?: { info: (obj: object, msg?: string) => void; warn: (obj: object, msg?: string) => void };
}

/** A running offline model. */
export interface OfflineModel {
  /** E.g. `http://127.0.0.1:40123`; SDK base URLs are `${url}/anthropic` and `${url}/openai/v1`. */
  url: string;
  port: number;
  profiles(): Record<OfflineProvider, ProviderProfile>;
  /** Changes a profile for requests that start from now on (Infinity tokensPerSec is stored as 0: same meaning). */
  setProfile(provider: OfflineProvider, p: Partial<ProviderProfile>): void;
  /**
   * `requests` by provider (`anthropic`, `openai` = chat; `embeddings`), `errors` by `provider:status`,
   * `aborted` = responses the client hung up on (`abortedByProvider`: chat responses only, per provider),
   * `models` = chat requests by the `model` they asked for.
   */
  stats(): OfflineModelStats;
  /** Zeroes every counter of `stats()` (also `POST /_offline/reset-stats`); profiles and prompt caches stay. */
  resetStats(): void;
  /** Stops listening and ends open connections, in-flight streams included. */
  close(): Promise<void>;
}

/** What `OfflineModel.stats()` reports. */
export interface OfflineModelStats {
  requests: Record<string, number>;
  errors: Record<string, number>;
  aborted: number;
  abortedByProvider: Record<OfflineProvider, number>;
  models: Record<string, number>;
}

/** The model name every response reports. */
export { OFFLINE_MODEL_NAME };
const MODEL = OFFLINE_MODEL_NAME;
/** OpenAI's own cap on inputs per embeddings request. */
const MAX_EMBEDDING_INPUTS = 2048;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Both providers' minimum cacheable prompt length (Anthropic: Sonnet-class models). */
const MIN_CACHE_TOKENS = 1024;
const CACHE_TTL_MS = 5 * 60 * 1000;
const OPENAI_CACHE_STEP = 128;

const profileSchema = z
  .object({
    ttftMs: z.number().min(0),
    ttftSigma: z.number().min(0),
    slowRate: z.number().min(0).max(1),
    slowFactor: z.number().min(1),
    tokensPerSec: z.number().min(0),
    tpsSigma: z.number().min(0),
    // null = unset again (JSON has no undefined).
    headersMs: z.number().min(0).nullable(),
    errorRate: z.number().min(0).max(1),
    errorStatus: z.number().int().min(400).max(599),
    retryAfterSec: z.number().min(0).nullable(),
    stallRate: z.number().min(0).max(1),
    stallMs: z.number().min(0),
    stallAfterTokens: z.number().int().min(1),
    jitterMs: z.number().min(0),
    models: z.record(z.string().min(1), z.object({ ttftFactor: z.number().positive(), tpsFactor: z.number().positive() }).partial().strict()),
  })
  .partial()
  .strict();
const profilesSchema = z.object({ anthropic: profileSchema.optional(), openai: profileSchema.optional() }).strict();

type ProfileOverrides = Partial<Record<OfflineProvider, Partial<ProviderProfile>>>;

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Parses OFFLINE_MODEL_PROFILES, e.g. '{"anthropic":{"ttftMs":0,"tokensPerSec":0}}'; unset or blank = no overrides. */
export function parseProfilesEnv(value: string | undefined): ProfileOverrides {
  if (value === undefined || value.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    throw new Error(`OFFLINE_MODEL_PROFILES is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = profilesSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `OFFLINE_MODEL_PROFILES has an invalid shape (${issuesText(parsed.error)}); expected e.g. {"anthropic":{"ttftMs":0,"tokensPerSec":0},"openai":{"errorRate":0.1}}`,
    );
  }
  return parsed.data;
}

/** Approximate token count, used for every number the server reports. */
function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Word-sized pieces that keep their whitespace, so the deltas concatenate back to the answer. */
function pieces(text: string): string[] {
  const lead = text.match(/^\s+/)?.[0] ?? '';
  const words = text.match(/\S+\s*/g) ?? [];
  if (lead && words.length) words[0] = lead + words[0];
  return words;
}

/** The answer cut at `maxTokens`, as a model hitting its output limit would. */
function limitAnswer(answer: string, maxTokens: number | undefined): { parts: string[]; truncated: boolean } {
  const all = pieces(answer);
  if (maxTokens === undefined || tokens(answer) <= maxTokens) return { parts: all, truncated: false };
  const parts: string[] = [];
  let text = '';
  for (const p of all) {
    if (tokens(text + p) > maxTokens) break;
    parts.push(p);
    text += p;
  }
  return { parts, truncated: true };
}

/** Prefixes seen recently, with a sliding TTL; bounded so a long benchmark cannot grow it without limit. */
class PrefixCache {
  private readonly entries = new Map<string, number>();
  constructor(private readonly max = 50_000) {}

  /** True when the prefix is live; a hit refreshes its TTL, like the providers' caches. */
  hit(key: string, now: number): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    this.entries.delete(key);
    if (expires <= now) return false;
    this.entries.set(key, now + CACHE_TTL_MS);
    return true;
  }

  put(key: string, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, now + CACHE_TTL_MS);
    // Map order is insertion order, and hits re-insert: the first key is the least recently used.
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}

// ---- request validation (minimal: enough to answer malformed requests with a provider-shaped 400)

const block = z.looseObject({ type: z.string() });
const anthropicBody = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(block)]) })).min(1),
  system: z.union([z.string(), z.array(block)]).optional(),
  stream: z.boolean().optional(),
  cache_control: z.unknown().optional(),
});
type AnthropicBody = z.infer<typeof anthropicBody>;

const openaiBody = z.looseObject({
  model: z.string().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
        content: z.union([z.string(), z.array(block), z.null()]).optional(),
      }),
    )
    .min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});
type OpenAIBody = z.infer<typeof openaiBody>;

const embeddingsBody = z.looseObject({
  model: z.string().min(1),
  // Token-id arrays are valid for OpenAI too, but nothing here sends them and a hashing embedder has no vocabulary.
  input: z.union([z.string(), z.array(z.string()).min(1).max(MAX_EMBEDDING_INPUTS)]),
  dimensions: z.number().int().min(1).optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  user: z.string().optional(),
});

/** Text of a content value: strings as is, text blocks' text, other blocks as JSON (they still cost tokens). */
function blockText(b: { type: string; [k: string]: unknown }): string {
  if ((b.type === 'text' || b.type === 'input_text') && typeof b.text === 'string') return b.text;
  return JSON.stringify(b);
}
function contentText(content: string | { type: string; [k: string]: unknown }[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map(blockText).join('\n');
}

// ---- continuation of an interrupted answer

/**
 * The rest of `answer` once `partial` has been said: the answer minus that prefix, leading whitespace kept,
 * so partial + rest is the answer. An Anthropic prefill arrives with its trailing whitespace trimmed (the
 * API refuses it otherwise), hence the second comparison. When the answer does not start with the partial
 * (e.g. it was redacted, or came from another conversation), the whole answer.
 */
function restOf(answer: string, partial: string): string {
  if (answer.startsWith(partial)) return answer.slice(partial.length);
  const trimmed = partial.trimEnd();
  return answer.startsWith(trimmed) ? answer.slice(trimmed.length) : answer;
}

/** A chat request for the rule engine: the conversation, and the partial answer to continue, if any. */
interface RuleCall {
  rules: RuleRequest;
  partial: string | null;
}

/**
 * Anthropic: a last message of role `assistant` is a prefill to continue; the answer is the one to the
 * conversation before it.
 */
function anthropicRuleCall(body: AnthropicBody): RuleCall {
  const messages = body.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
  const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map(blockText).join('\n');
  const last = messages[messages.length - 1];
  if (last?.role !== 'assistant') return { rules: { system, messages }, partial: null };
  return { rules: { system, messages: messages.slice(0, -1) }, partial: last.content };
}

/**
 * OpenAI: a partial answer as an assistant message followed by the user message CONTINUATION_INSTRUCTION
 * (infra/llm/provider.ts) asks to continue it; the answer is the one to the conversation before both.
 */
function openaiRuleCall(body: OpenAIBody): RuleCall {
  const system = body.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n');
  const messages = body.messages.flatMap((m) =>
    m.role === 'user' || m.role === 'assistant' ? [{ role: m.role, content: contentText(m.content) }] : [],
  );
  const [partial, instruction] = body.messages.slice(-2);
  const continues =
    body.messages.length >= 2 &&
    partial?.role === 'assistant' &&
    instruction?.role === 'user' &&
    contentText(instruction.content).trim() === CONTINUATION_INSTRUCTION;
  if (!continues) return { rules: { system, messages }, partial: null };
  // The two are the last user/assistant messages too, so dropping them from `messages` is dropping the last two.
  return { rules: { system, messages: messages.slice(0, -2) }, partial: contentText(partial.content) };
}

/** A standard normal variate by Box–Muller: always exactly two uniforms, so the draw count never varies. */
function normal(random: () => number): number {
  const u1 = random();
  const u2 = random();
  // 1 - u1 is in (0, 1]: no log(0).
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

// ---- usage, including the prompt-caching imitation

interface PromptUsage {
  input: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Anthropic's prompt caching, imitated: blocks carrying `cache_control` (or a top-level `cache_control`,
 * meaning "up to the end") are breakpoints; a breakpoint's prefix of ≥1024 tokens is written to a 5-minute
 * cache, later identical prefixes read from it (refreshing the TTL). The longest live breakpoint is read,
 * the rest up to the last breakpoint written; `input_tokens` excludes both, as Anthropic reports it.
 */
function anthropicUsage(body: AnthropicBody, cache: PrefixCache, now: number): PromptUsage {
  type Segment = { text: string; breakpoint: boolean };
  const segments: Segment[] = [];
  const isBreak = (b: Record<string, unknown>) => b['cache_control'] != null;
  if (typeof body.system === 'string') segments.push({ text: `system:${body.system}`, breakpoint: false });
  else for (const b of body.system ?? []) segments.push({ text: `system:${blockText(b)}`, breakpoint: isBreak(b) });
  for (const m of body.messages) {
    if (typeof m.content === 'string') segments.push({ text: `${m.role}:${m.content}`, breakpoint: false });
    else for (const b of m.content) segments.push({ text: `${m.role}:${blockText(b)}`, breakpoint: isBreak(b) });
  }
  const last = segments[segments.length - 1];
  if (body.cache_control != null && last) last.breakpoint = true;

  const hash = createHash('sha256').update(body.model);
  const breakpoints: { key: string; tokens: number }[] = [];
  let total = 0;
  for (const s of segments) {
    total += tokens(s.text);
    hash.update(`\u0000${s.text}`);
    if (s.breakpoint) breakpoints.push({ key: hash.copy().digest('hex'), tokens: total });
  }
  const cacheable = breakpoints.filter((b) => b.tokens >= MIN_CACHE_TOKENS);
  if (!cacheable.length) return { input: total, cacheRead: 0, cacheWrite: 0 };
  let read = 0;
  for (const b of cacheable) if (cache.hit(b.key, now)) read = Math.max(read, b.tokens);
  for (const b of cacheable) if (b.tokens > read) cache.put(b.key, now);
  const cachedUpTo = cacheable[cacheable.length - 1]!.tokens;
  return { input: total - cachedUpTo, cacheRead: read, cacheWrite: cachedUpTo - read };
}

/**
 * OpenAI's automatic prompt caching, imitated: prompts of ≥1024 tokens get `cached_tokens` for the longest
 * prefix seen in the last 5 minutes, in 128-token steps from 1024. No opt-in and no write charge.
 */
function openaiUsage(body: OpenAIBody, cache: PrefixCache, now: number): PromptUsage {
  const prompt = body.messages.map((m) => `${m.role}:${contentText(m.content)}\n`).join('');
  const total = tokens(prompt);
  if (total < MIN_CACHE_TOKENS) return { input: total, cacheRead: 0, cacheWrite: 0 };
  const hash: Hash = createHash('sha256').update(`${body.model}\u0000`);
  const keys: { key: string; tokens: number }[] = [];
  let hashed = 0;
  for (let t = MIN_CACHE_TOKENS; t * 4 <= prompt.length; t += OPENAI_CACHE_STEP) {
    hash.update(prompt.slice(hashed, t * 4));
    hashed = t * 4;
    keys.push({ key: hash.copy().digest('hex'), tokens: t });
  }
  let cached = 0;
  for (const k of keys) if (cache.hit(k.key, now)) cached = k.tokens;
  for (const k of keys) if (k.tokens > cached) cache.put(k.key, now);
  return { input: total, cacheRead: cached, cacheWrite: 0 };
}

// ---- errors in each provider's shape

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

function anthropicError(status: number, message: string): object {
  return { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
}

function openaiError(status: number, message: string, param: string | null = null): object {
  const [type, code] =
    status === 429 ? ['requests', 'rate_limit_exceeded']
    : status === 404 ? ['invalid_request_error', 'not_found']
    : status === 401 ? ['invalid_request_error', 'invalid_api_key']
    : status >= 500 ? ['server_error', status === 503 ? 'service_unavailable' : null]
    : ['invalid_request_error', null];
  return { error: { message, type, param, code } };
}

const INJECTED_MESSAGES: Record<number, string> = {
  429: 'Rate limit reached',
  500: 'Internal server error',
  503: 'Service unavailable',
  529: 'Overloaded',
};

/** The server itself. */
export async function startOfflineModel(opts: OfflineModelOptions): Promise<OfflineModel> {
  const host = opts.host ?? '127.0.0.1';
  const random = mulberry32(opts.seed ?? 1);
  const profiles: Record<OfflineProvider, ProviderProfile> = {
    anthropic: { ...DEFAULT_PROFILES.anthropic },
    openai: { ...DEFAULT_PROFILES.openai },
  };
  const caches: Record<OfflineProvider, PrefixCache> = { anthropic: new PrefixCache(), openai: new PrefixCache() };
  const counters = {
    requests: {} as Record<string, number>,
    errors: {} as Record<string, number>,
    aborted: 0,
    abortedByProvider: { anthropic: 0, openai: 0 } as Record<OfflineProvider, number>,
    models: {} as Record<string, number>,
  };
  const resetStats = () => {
    counters.requests = {};
    counters.errors = {};
    counters.aborted = 0;
    counters.abortedByProvider = { anthropic: 0, openai: 0 };
    counters.models = {};
  };
  let ids = 0;

  const setProfile = (provider: OfflineProvider, p: Partial<ProviderProfile>) => {
    const patch = { ...p };
    if (patch.tokensPerSec === Infinity) patch.tokensPerSec = 0;
    const parsed = profileSchema.safeParse(patch);
    if (!parsed.success) throw new Error(`invalid ${provider} profile: ${issuesText(parsed.error)}`);
    profiles[provider] = { ...profiles[provider], ...parsed.data };
  };
  for (const provider of ['anthropic', 'openai'] as const) {
    const p = opts.profiles?.[provider];
    if (p) setProfile(provider, p);
  }
  const snapshot = () => ({ anthropic: { ...profiles.anthropic }, openai: { ...profiles.openai } });
  const bump = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);

  const server = http.createServer((req, res) => {
    res.setHeader('x-offline-model', 'true');
    const aborted = new AbortController();
    const path = (req.url ?? '/').split('?')[0];
    const chat: OfflineProvider | null =
      path === '/anthropic/v1/messages' ? 'anthropic'
      : path === '/openai/v1/chat/completions' ? 'openai'
      : null;
    // A response closed before we ended it means the client hung up: stop every timer of this request.
    // (The request's own 'close' fires as soon as its body has been read, so it cannot tell.)
    res.on('close', () => {
      if (res.writableEnded) return;
      aborted.abort();
      counters.aborted++;
      if (chat) counters.abortedByProvider[chat]++;
    });
    handle(req, res, aborted.signal).catch((err: unknown) => {
      if (aborted.signal.aborted) return;
      opts.logger?.warn({ err: (err as Error).message, url: req.url }, 'offline model: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'offline model internal error', type: 'server_error' } });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const provider: OfflineProvider | null =
      path?.startsWith('/anthropic/') ? 'anthropic'
      : path?.startsWith('/openai/') ? 'openai'
      : null;

    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { ok: true, offline: true });
    if (path === '/_offline/profiles') {
      if (req.method === 'GET') return sendJson(res, 200, snapshot());
      if (req.method === 'PUT') {
        const body = await readJson(req);
        const parsed = profilesSchema.safeParse(body.ok ? body.value : undefined);
        if (!parsed.success) return sendJson(res, 400, { error: body.ok ? issuesText(parsed.error) : body.message });
        for (const p of ['anthropic', 'openai'] as const) if (parsed.data[p]) setProfile(p, parsed.data[p]);
        opts.logger?.info({ profiles: snapshot() }, 'offline model profiles changed');
        return sendJson(res, 200, snapshot());
      }
    }
    if (path === '/_offline/stats' && req.method === 'GET') return sendJson(res, 200, stats());
    if (path === '/_offline/reset-stats' && req.method === 'POST') {
      resetStats();
      return sendJson(res, 200, stats());
    }

    if (provider === 'anthropic' && path === '/anthropic/v1/messages' && req.method === 'POST') return anthropic(req, res, signal);
    if (provider === 'openai' && path === '/openai/v1/chat/completions' && req.method === 'POST') return openai(req, res, signal);
    if (provider === 'openai' && path === '/openai/v1/embeddings' && req.method === 'POST') return embeddings(req, res);
    const message = `offline model: no route ${req.method} ${path}`;
    if (provider === 'anthropic') return sendJson(res, 404, anthropicError(404, message));
    if (provider === 'openai') return sendJson(res, 404, openaiError(404, message));
    return sendJson(res, 404, { error: message });
  }

  /** What both providers share: PRNG draws, fault injection, the answer, pacing. */
  interface Plan {
    profile: ProviderProfile;
    /** This request's TTFT: the lognormal draw, the slow tail and the jitter applied. */
    ttftMs: number;
    /** When the headers and first frames leave (≤ ttftMs), or null: with the first content piece. */
    headersMs: number | null;
    /** This request's gap between content pieces (from its lognormal tokensPerSec); 0 = unthrottled. */
    intervalMs: number;
    stall: boolean;
    parts: string[];
    text: string;
    truncated: boolean;
  }

  function plan(provider: OfflineProvider, call: RuleCall, maxTokens: number | undefined, model: string): Plan | { failStatus: number; retryAfterSec: number | null } {
    const profile = { ...profiles[provider] };
    // Always eight draws in the same order (error, jitter, stall, slow, two for the TTFT's normal, two for the
    // pace's), so request n sees the same numbers whatever the profile: σ = 0 or not, error or not.
    const errorRoll = random();
    const jitter = random() * profile.jitterMs;
    const stallRoll = random();
    const slowRoll = random();
    const ttftZ = normal(random);
    const tpsZ = normal(random);
    if (errorRoll < profile.errorRate) return { failStatus: profile.errorStatus, retryAfterSec: profile.retryAfterSec };

    const perModel = profile.models?.[model] ?? {};
    const ttftMs = profile.ttftMs * (perModel.ttftFactor ?? 1) * Math.exp(profile.ttftSigma * ttftZ) * (slowRoll < profile.slowRate ? profile.slowFactor : 1) + jitter;
    const tps = profile.tokensPerSec * (perModel.tpsFactor ?? 1) * Math.exp(profile.tpsSigma * tpsZ);
    const answer = answerFor(call.rules, opts.product);
    const { parts, truncated } = limitAnswer(call.partial === null ? answer : restOf(answer, call.partial), maxTokens);
    return {
      profile,
      ttftMs,
      headersMs: profile.headersMs === null ? null : Math.min(profile.headersMs, ttftMs),
      intervalMs: tps > 0 && Number.isFinite(tps) ? 1000 / tps : 0,
      stall: stallRoll < profile.stallRate,
      parts,
      text: parts.join(''),
      truncated,
    };
  }

  /**
   * Calls `start` (status, headers, first frames) at headersMs when set, then writes the pieces from the
   * TTFT on, paced, with the optional stall after `stallAfterTokens` pieces. Without headersMs the caller
   * starts the stream with its first piece.
   */
  async function pace(p: Plan, signal: AbortSignal, start: () => void, write: (piece: string) => void): Promise<void> {
    const t0 = performance.now();
    if (p.headersMs !== null) {
      await wait(p.headersMs, signal);
      if (signal.aborted) return;
      start();
    }
    await wait(t0 + p.ttftMs - performance.now(), signal);
    let due = performance.now();
    for (let i = 0; i < p.parts.length; i++) {
      if (i === p.profile.stallAfterTokens && p.stall) due += p.profile.stallMs;
      if (i > 0) due += p.intervalMs;
      const delay = due - performance.now();
      if (delay >= 1) await wait(delay, signal);
      if (signal.aborted) return;
      write(p.parts[i]!);
    }
  }

  /** Non-streaming responses take as long as the stream would have: TTFT, stall, then the rest of the tokens. */
  async function waitWhole(p: Plan, signal: AbortSignal): Promise<void> {
    const stall = p.stall && p.parts.length > p.profile.stallAfterTokens ? p.profile.stallMs : 0;
    await wait(p.ttftMs + stall + Math.max(0, p.parts.length - 1) * p.intervalMs, signal);
  }

  /** The headers of an injected error: `retry-after` when the profile sets it, as the real APIs send on 429/529/503. */
  const injectedHeaders = (retryAfterSec: number | null): Record<string, string> =>
    retryAfterSec === null ? {} : { 'retry-after': String(retryAfterSec) };

  async function anthropic(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    bump(counters.requests, 'anthropic');
    const id = `msg_offline_${String(++ids).padStart(8, '0')}`;
    res.setHeader('request-id', `req_offline_${ids}`);
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      bump(counters.errors, `anthropic:${status}`);
      sendJson(res, status, anthropicError(status, message), headers);
    };
    const raw = await readJson(req);
    if (!raw.ok) return fail(raw.status, raw.message);
    const parsed = anthropicBody.safeParse(raw.value);
    if (!parsed.success) return fail(400, issuesText(parsed.error));
    const body = parsed.data;
    bump(counters.models, body.model);

    const p = plan('anthropic', anthropicRuleCall(body), body.max_tokens, body.model);
    if ('failStatus' in p) {
      return fail(p.failStatus, `${INJECTED_MESSAGES[p.failStatus] ?? 'Error'} (injected by the offline model)`, injectedHeaders(p.retryAfterSec));
    }
    const usage = anthropicUsage(body, caches.anthropic, Date.now());
    const outputTokens = tokens(p.text);
    const stopReason = p.truncated ? 'max_tokens' : 'end_turn';
    const promptUsage = {
      input_tokens: usage.input,
      cache_creation_input_tokens: usage.cacheWrite,
      cache_read_input_tokens: usage.cacheRead,
    };

    if (!body.stream) {
      await waitWhole(p, signal);
      return sendJson(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: p.text }],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...promptUsage, output_tokens: outputTokens },
      });
    }

    let started = false;
    const event = (type: string, data: object) => safeWrite(res, `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const start = () => {
      if (started) return;
      started = true;
      startSse(res);
      event('message_start', {
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: MODEL,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...promptUsage, output_tokens: 1 },
        },
      });
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      event('ping', {});
    };
    await pace(p, signal, start, (text) => {
      start();
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } });
    });
    if (signal.aborted) return;
    start();
    event('content_block_stop', { index: 0 });
    event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
    event('message_stop', {});
    res.end();
  }

  async function openai(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    bump(counters.requests, 'openai');
    const id = `chatcmpl-offline-${String(++ids).padStart(8, '0')}`;
    res.setHeader('x-request-id', `req_offline_${ids}`);
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      bump(counters.errors, `openai:${status}`);
      sendJson(res, status, openaiError(status, message), headers);
    };
    const raw = await readJson(req);
    if (!raw.ok) return fail(raw.status, raw.message);
    const parsed = openaiBody.safeParse(raw.value);
    if (!parsed.success) return fail(400, issuesText(parsed.error));
    const body = parsed.data;
    bump(counters.models, body.model);

    const p = plan('openai', openaiRuleCall(body), body.max_completion_tokens ?? body.max_tokens ?? undefined, body.model);
    if ('failStatus' in p) {
      return fail(p.failStatus, `${INJECTED_MESSAGES[p.failStatus] ?? 'Error'} (injected by the offline model)`, injectedHeaders(p.retryAfterSec));
    }
    const prompt = openaiUsage(body, caches.openai, Date.now());
    const completionTokens = tokens(p.text);
    const finishReason = p.truncated ? 'length' : 'stop';
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: prompt.input,
      completion_tokens: completionTokens,
      total_tokens: prompt.input + completionTokens,
      prompt_tokens_details: { cached_tokens: prompt.cacheRead, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };

    if (!body.stream) {
      await waitWhole(p, signal);
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: MODEL,
        choices: [
          { index: 0, message: { role: 'assistant', content: p.text, refusal: null, annotations: [] }, logprobs: null, finish_reason: finishReason },
        ],
        usage,
        service_tier: 'default',
        system_fingerprint: null,
      });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices: object[], extra: object = {}) =>
      safeWrite(
        res,
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: null, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`,
      );
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      startSse(res);
      chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    };
    await pace(p, signal, start, (content) => {
      start();
      chunk([{ index: 0, delta: { content }, logprobs: null, finish_reason: null }]);
    });
    if (signal.aborted) return;
    start();
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }]);
    if (includeUsage) chunk([], { usage });
    safeWrite(res, 'data: [DONE]\n\n');
    res.end();
  }

  /**
   * OpenAI embeddings from the local hashing embedder. No latency profile and no PRNG draws: embedding
   * calls interleaved with chat must not shift the seeded fault sequence the chat tests rely on.
   */
  async function embeddings(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    bump(counters.requests, 'embeddings');
    res.setHeader('x-request-id', `req_offline_${++ids}`);
    const fail = (status: number, message: string, param: string | null = null) => {
      bump(counters.errors, `embeddings:${status}`);
      sendJson(res, status, openaiError(status, message, param));
    };
    const raw = await readJson(req);
    if (!raw.ok) return fail(raw.status, raw.message);
    const parsed = embeddingsBody.safeParse(raw.value);
    if (!parsed.success) return fail(400, issuesText(parsed.error), String(parsed.error.issues[0]?.path[0] ?? '') || null);
    const body = parsed.data;
    if (body.dimensions !== undefined && body.dimensions !== LOCAL_EMBEDDING_DIMENSIONS) {
      return fail(
        400,
        `Invalid value for 'dimensions' = ${body.dimensions}: ${LOCAL_EMBEDDING_MODEL} (the offline embedder) only produces ${LOCAL_EMBEDDING_DIMENSIONS} dimensions.`,
        'dimensions',
      );
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    const base64 = body.encoding_format === 'base64';
    const data = inputs.map((text, index) => {
      // Float32 either way, as the real API's vectors are, so both encodings decode to the same numbers.
      const vector = embedText(text).map(Math.fround);
      return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector };
    });
    const promptTokens = inputs.reduce((sum, text) => sum + tokens(text), 0);
    sendJson(res, 200, {
      object: 'list',
      data,
      model: LOCAL_EMBEDDING_MODEL,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  }

  function stats(): OfflineModelStats {
    return {
      requests: { ...counters.requests },
      errors: { ...counters.errors },
      aborted: counters.aborted,
      abortedByProvider: { ...counters.abortedByProvider },
      models: { ...counters.models },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger?.info(
    { url, seed: opts.seed ?? 1, profiles: snapshot() },
    'offline model started: a deterministic rule engine speaking the Anthropic and OpenAI wire formats, NOT an LLM',
  );

  return {
    url,
    port,
    profiles: snapshot,
    setProfile,
    stats,
    resetStats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive and streaming connections; end them now.
        server.closeAllConnections();
      }),
  };
}

/** OpenAI's base64 embedding encoding: little-endian float32s (explicitly LE, whatever the host). */
function float32Base64(vector: number[]): string {
  const view = new DataView(new ArrayBuffer(vector.length * 4));
  vector.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(view.buffer).toString('base64');
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  // timers/promises clears its timer on abort, so a hung-up client leaves nothing scheduled.
  return ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function startSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  // Each delta should leave as its own packet, as it would from the real APIs.
  res.socket?.setNoDelay(true);
}

function safeWrite(res: http.ServerResponse, chunk: string): void {
  if (!res.destroyed && !res.writableEnded) res.write(chunk);
}

type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(req: http.IncomingMessage): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, message: `request body exceeds ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (err) {
    return { ok: false, status: 400, message: `request body is not valid JSON: ${(err as Error).message}` };
  }
}
