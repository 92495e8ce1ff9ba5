// Usage the offline model reports, including its imitation of the providers' prompt caches (≥ 1024-token
// prefixes, 5-minute sliding lifetime).
import { createHash, type Hash } from 'node:crypto';
import { blockText, contentText, type AnthropicBody, type OpenAIBody } from './requests.ts';
import { tokens } from './text.ts';

/** Both providers' minimum cacheable prompt length (Anthropic: Sonnet-class models). */
const MIN_CACHE_TOKENS = 1024;
const CACHE_TTL_MS = 5 * 60 * 1000;
const OPENAI_CACHE_STEP = 128;

/** Prefixes seen recently, with a sliding TTL; bounded so a long benchmark cannot grow it without limit. */
export class PrefixCache {
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

// ---- usage, including the prompt-caching imitation

export interface PromptUsage {
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
export function anthropicUsage(body: AnthropicBody, cache: PrefixCache, now: number): PromptUsage {
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
export function openaiUsage(body: OpenAIBody, cache: PrefixCache, now: number): PromptUsage {
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
