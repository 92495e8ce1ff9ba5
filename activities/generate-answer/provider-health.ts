// What this worker has recently seen of each answer provider: first-token latencies (the automatic hedge
// delay comes from them) and Retry-After cool-downs (a provider that asked to be left alone is started
// last until its time is up). In-process on purpose: each worker learns from its own calls, and nothing
// here must be right for correctness, only for speed.
import type { ProviderName } from '../../infra/llm/provider.ts';

/** The hedge delay `auto` uses this quantile of the primary's recent first-token latencies. */
export const AUTO_HEDGE_QUANTILE = 0.75;
/** Until a provider has this many samples, `auto` hedges after AUTO_HEDGE_INITIAL_MS. */
export const AUTO_HEDGE_MIN_SAMPLES = 10;
export const AUTO_HEDGE_INITIAL_MS = 500;
const AUTO_HEDGE_BOUNDS_MS = [25, 5000] as const;
const WINDOW = 200;

/** Recent first-token latencies and cool-downs per provider. */
export interface ProviderHealth {
  /** Records a call's time to first token. */
  observeTtft(provider: ProviderName, ms: number): void;
  /** Records a provider's Retry-After. */
  coolDown(provider: ProviderName, ms: number): void;
  /** Learns from a race's calls: their first-token latencies, and who asked to be left alone. */
  learn(calls: readonly { provider: ProviderName; ttftMs: number | null; outcome?: string; startMs?: number; ms?: number; retryAfterMs?: number }[]): void;
  /** Whether a provider asked to be left alone and its time is not up. */
  coolingDown(provider: ProviderName): boolean;
  /** `providers` with those cooling down moved to the end (their order kept). */
  order<T extends ProviderName>(providers: T[]): T[];
  /** The hedge delay for a race whose first provider is `primary`: a number as is, `auto` from its recent latencies. */
  hedgeDelay(primary: ProviderName, setting: number | 'auto'): number;
  /** Recent samples (for tests and stats). */
  snapshot(): Record<string, { samples: number; ttftP50: number | null; ttftP75: number | null; coolingDownMs: number }>;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A fresh health record (one per worker process). */
export function createProviderHealth(now: () => number = Date.now, quantileForAuto = AUTO_HEDGE_QUANTILE): ProviderHealth {
  const ttfts = new Map<ProviderName, number[]>();
  const until = new Map<ProviderName, number>();
  const sorted = (p: ProviderName) => [...(ttfts.get(p) ?? [])].sort((a, b) => a - b);
  const coolingDown = (p: ProviderName) => (until.get(p) ?? 0) > now();
  const observeTtft = (provider: ProviderName, ms: number) => {
    const list = ttfts.get(provider) ?? [];
    list.push(ms);
    if (list.length > WINDOW) list.shift();
    ttfts.set(provider, list);
  };
  const coolDown = (provider: ProviderName, ms: number) => {
    until.set(provider, Math.max(until.get(provider) ?? 0, now() + ms));
  };
  return {
    observeTtft,
    coolDown,
    coolingDown,
    learn(calls) {
      for (const c of calls) {
        if (c.ttftMs !== null) observeTtft(c.provider, c.ttftMs);
        // A first provider that lost had no token yet when it was stopped: its time so far is a lower bound,
        // and leaving it out would bias its latency low (and the hedge early) exactly when it is slow.
        else if (c.outcome === 'lost' && c.startMs === 0 && c.ms !== undefined) observeTtft(c.provider, c.ms);
        if (c.retryAfterMs !== undefined) coolDown(c.provider, c.retryAfterMs);
      }
    },
    order(providers) {
      return [...providers.filter((p) => !coolingDown(p)), ...providers.filter((p) => coolingDown(p))];
    },
    hedgeDelay(primary, setting) {
      if (setting !== 'auto') return setting;
      const samples = sorted(primary);
      if (samples.length < AUTO_HEDGE_MIN_SAMPLES) return AUTO_HEDGE_INITIAL_MS;
      const q = quantile(samples, quantileForAuto)!;
      return Math.round(Math.min(AUTO_HEDGE_BOUNDS_MS[1], Math.max(AUTO_HEDGE_BOUNDS_MS[0], q)));
    },
    snapshot() {
      const out: ReturnType<ProviderHealth['snapshot']> = {};
      for (const p of new Set([...ttfts.keys(), ...until.keys()])) {
        const s = sorted(p);
        out[p] = { samples: s.length, ttftP50: quantile(s, 0.5), ttftP75: quantile(s, 0.75), coolingDownMs: Math.max(0, (until.get(p) ?? 0) - now()) };
      }
      return out;
    },
  };
}
