// What every request handler of one offline model shares: its product rules, seeded PRNG, profiles,
// prompt caches, counters and request ids.
import type { OfflineProvider, ProviderProfile } from './profiles.ts';
import type { ProductRules } from './rules.ts';
import type { PrefixCache } from './usage.ts';

/** Request counters behind `GET /_offline/stats`. */
export interface Counters {
  requests: Record<string, number>;
  errors: Record<string, number>;
  aborted: number;
  abortedByProvider: Record<OfflineProvider, number>;
  models: Record<string, number>;
}

/** A chat request as the model received it (`GET /_offline/requests`): what a test reads to see a prompt. */
export interface ReceivedRequest {
  provider: OfflineProvider;
  model: string;
  /** The system text (Anthropic's system blocks, or OpenAI's system and developer messages), joined by newlines. */
  system: string;
  messages: { role: 'user' | 'assistant'; content: string }[];
  at: string;
}

/** How many of the latest chat requests are kept for inspection. */
export const RECENT_REQUESTS = 50;

/** One running offline model's state. */
export interface ModelState {
  product: ProductRules;
  /** The seeded PRNG: every chat request draws the same eight numbers from it, in order. */
  random: () => number;
  profiles: Record<OfflineProvider, ProviderProfile>;
  caches: Record<OfflineProvider, PrefixCache>;
  counters: Counters;
  /** The latest RECENT_REQUESTS chat requests, oldest first. */
  recent: ReceivedRequest[];
  /** The next request number (ids in responses and request-id headers). */
  nextId(): number;
}

/** Adds one to a counter. */
export const bump = (map: Record<string, number>, key: string): number => (map[key] = (map[key] ?? 0) + 1);

/** Keeps a chat request among the recent ones (the oldest drops out past RECENT_REQUESTS). */
export function remember(s: Pick<ModelState, 'recent'>, request: Omit<ReceivedRequest, 'at'>): void {
  s.recent.push({ ...request, at: new Date().toISOString() });
  if (s.recent.length > RECENT_REQUESTS) s.recent.splice(0, s.recent.length - RECENT_REQUESTS);
}
