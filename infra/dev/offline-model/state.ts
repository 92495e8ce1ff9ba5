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

/** One running offline model's state. */
export interface ModelState {
  product: ProductRules;
  /** The seeded PRNG: every chat request draws the same eight numbers from it, in order. */
  random: () => number;
  profiles: Record<OfflineProvider, ProviderProfile>;
  caches: Record<OfflineProvider, PrefixCache>;
  counters: Counters;
  /** The next request number (ids in responses and request-id headers). */
  nextId(): number;
}

/** Adds one to a counter. */
export const bump = (map: Record<string, number>, key: string): number => (map[key] = (map[key] ?? 0) + 1);
